import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, chmodSync, constants, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'
import { freePort } from './ports.ts'

/** Debian's nginx, if installed; /usr/sbin is not on every user's PATH. */
export function findNginx (): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin']
  return dirs.map((dir) => join(dir, 'nginx')).find((path) => {
    try {
      accessSync(path, constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

export interface ProxyOptions {
  nginx: string
  /** Where cc-live listens on 127.0.0.1. */
  upstreamPort: number
  /** The path prefixes that go to cc-live, as Traefik's PathPrefix routers send them. */
  prefixes: string[]
  /** The blog's files, served for every other path. */
  blogRoot: string
  /** The loopback address nginx connects to cc-live from, so cc-live can tell it from the client. */
  proxyAddress: string
}

function configFor (dir: string, port: number, { upstreamPort, prefixes, proxyAddress }: ProxyOptions): string {
  const locations = prefixes.map((prefix) => `    location ${prefix} { proxy_pass http://cc_live; }`).join('\n')
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
  access_log off;
  types { text/html html; }
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${dir}/${kind};`).join(' ')}
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream cc_live { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${port};
    root ${dir}/blog;
    # As Traefik forwards: HTTP/1.1, the WebSocket handshake passed on, the peer added to
    # X-Forwarded-For. Traefik drops a client's own X-Forwarded-For; this keeps and appends to it,
    # the harder case for cc-live.
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_bind ${proxyAddress};
    proxy_read_timeout 1h;
${locations}
    # The blog container (nginx image defaults): static files, 404 for anything else.
    location / { index index.html; }
  }
}
`
}

/** Runs nginx in the foreground with a generated config until the test ends; resolves with its port. */
export async function startProxy (t: Test, options: ProxyOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-live-nginx-'))
  // Workers started by root run as nobody: they get a readable copy of the blog, wherever the checkout lives.
  chmodSync(dir, 0o755)
  cpSync(options.blogRoot, join(dir, 'blog'), { recursive: true })
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), configFor(dir, port, options))
  const nginx: ChildProcess = spawn(options.nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(async () => {
    if (nginx.exitCode === null) {
      nginx.kill('SIGTERM')
      await once(nginx, 'exit')
    }
    rmSync(dir, { recursive: true, force: true })
  })
  const errors: string[] = []
  await new Promise<void>((resolve, reject) => {
    nginx.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${errors.join('\n')}`)))
    // The master binds its sockets before it starts workers.
    createInterface({ input: nginx.stderr! }).on('line', (line) => {
      errors.push(line)
      if (line.includes('start worker processes')) resolve()
    })
  })
  return port
}
