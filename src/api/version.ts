/** The version document at `/`, as Karbor answers it (HTTP 300, one CURRENT v1.0). */
export function versionDocument(base: string): Record<string, unknown> {
  return {
    versions: [
      {
        id: 'v1.0',
        status: 'CURRENT',
        updated: '2026-11-30T00:00:00Z',
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.data-protect+json;version=1' }],
        links: [{ rel: 'self', href: `${base}/v1/` }],
      },
    ],
  };
}
