import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

export interface ComposeService {
  image?: string
  build?: { context: string, dockerfile: string }
  command?: string[]
  env_file?: string
  environment?: Record<string, string>
  ports?: string[]
  volumes?: string[]
  labels?: Record<string, string>
  healthcheck?: { test: string[] }
  deploy?: { replicas?: number }
  depends_on?: Record<string, { condition: string }>
  networks?: string[] | Record<string, { ipv4_address?: string }>
}

export interface Compose {
  services: Record<string, ComposeService>
  networks: Record<string, { ipam?: { config: Array<{ subnet: string }> } }>
  volumes?: Record<string, object | null>
}

export function loadCompose (path: string): Compose {
  return parse(readFileSync(path, 'utf8')) as Compose
}

export interface TraefikRouter {
  name: string
  /** The compose service whose labels declare the router. */
  container: string
  rule: string
  /** The path of a `PathPrefix(...)` rule; rules of any other shape are refused. */
  prefix: string
  /** The Traefik service it forwards to. */
  service: string
  /** Explicit, or Traefik's default: the length of the rule. */
  priority: number
}

/** The Traefik HTTP routers every compose service declares in its labels. */
export function traefikRouters (compose: Compose): TraefikRouter[] {
  return Object.entries(compose.services).flatMap(([container, { labels = {} }]) =>
    Object.entries(labels).flatMap(([label, rule]) => {
      const name = /^traefik\.http\.routers\.([^.]+)\.rule$/.exec(label)?.[1]
      if (name === undefined) return []
      const prefix = /^PathPrefix\(`([^`]+)`\)$/.exec(rule)?.[1]
      if (prefix === undefined) throw new Error(`router ${name}: not a single PathPrefix rule: ${rule}`)
      const router = (key: string): string | undefined => labels[`traefik.http.routers.${name}.${key}`]
      return [{
        name,
        container,
        rule,
        prefix,
        service: router('service') ?? '',
        priority: Number(router('priority') ?? rule.length)
      }]
    }))
}

/** The port a Traefik service forwards to, from the labels of the container that declares it. */
export function traefikServicePort (compose: Compose, service: string): number | undefined {
  for (const { labels = {} } of Object.values(compose.services)) {
    const port = labels[`traefik.http.services.${service}.loadbalancer.server.port`]
    if (port !== undefined) return Number(port)
  }
  return undefined
}
