// @ts-check
/**
 * Where a referral code arrives: a shared page's `ref` query, or a 小程序码's `scene` (the server's
 * posters use scene `r=<code>`, URL-encoded by WeChat).
 * @param {Record<string, string | undefined> | undefined} query
 * @returns {string}
 */
function referralFromQuery(query) {
  if (!query) return ''
  if (query.ref) return clean(query.ref)
  if (query.scene) {
    const scene = decodeURIComponent(query.scene)
    for (const part of scene.split('&')) {
      const [key, value] = part.split('=')
      if ((key === 'r' || key === 'ref') && value) return clean(value)
    }
  }
  return ''
}

/** @param {string} code */
function clean(code) {
  const value = String(code).trim()
  return /^[A-Za-z0-9:_-]{1,64}$/.test(value) ? value : ''
}

/**
 * The path a share opens: the page plus the sharer's referral code.
 * @param {string} path e.g. '/pages/home/index'
 * @param {string} code
 * @param {Record<string, string | number>} [query]
 */
function sharePath(path, code, query = {}) {
  const params = Object.entries({...query, ...(code ? {ref: code} : {})})
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&')
  return params ? `${path}?${params}` : path
}

module.exports = {referralFromQuery, sharePath}
