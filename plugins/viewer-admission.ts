import fp from 'fastify-plugin'
import { ViewerAdmission } from '../src/viewers/admission.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Caps and origins for viewers of every transport: the one owner of their places. */
    viewerAdmission: ViewerAdmission
  }
}

/** Decorates the instance with the viewer admission, before both transports that ask it. */
export default fp(async function viewerAdmission (fastify) {
  const { CC_LIVE_MAX_VIEWERS, CC_LIVE_MAX_VIEWERS_PER_IP, allowedOrigins } = fastify.config
  fastify.decorate('viewerAdmission', new ViewerAdmission({
    maxViewers: CC_LIVE_MAX_VIEWERS,
    maxViewersPerAddress: CC_LIVE_MAX_VIEWERS_PER_IP,
    allowedOrigins
  }))
}, { name: 'viewer-admission', dependencies: ['config'] })
