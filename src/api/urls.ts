import type { FastifyRequest } from 'fastify';

/** baseUrl is where clients reach this API: the configured public URL, else the request's own host. */
export function baseUrl(req: FastifyRequest, publicUrl: string): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = req.headers.host ?? 'localhost';
  return `${req.protocol}://${host}`;
}
