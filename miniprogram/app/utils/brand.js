// @ts-check
/**
 * The creator's brand (GET /api/v1/brand/): site name, tagline, colours and share title.
 *
 * Kept in storage with its version. Every request names the stored version (`X-Brand-Known`, 'none'
 * when nothing is stored), and an answer to a stale or empty copy carries the brand itself (`X-Brand`):
 * the first launch's first call (the login) brings it, so no screen spends a call on it and the home
 * screen keeps its 3. GET /api/v1/brand/ is the fallback when an answer names a version it did not
 * carry. Until the first answer, and offline, the platform's own defaults below are shown.
 */
const api = require('./api')

const KEY = 'zq_brand'

/** The offline default: the platform's own name, as core.brand's defaults on the server. */
const DEFAULT = Object.freeze({
  version: '',
  site_name: '知圈',
  short_name: '知圈',
  tagline: '知识付费会员社群',
  description: '',
  logo_url: '',
  primary_color: '#07c160',
  primary_dark: '#06ae56',
  accent_color: '#fa5151',
  share_title: '知圈 · 知识付费会员社群',
})

/**
 * @typedef {{version: string, site_name: string, short_name: string, tagline: string, description: string,
 *   logo_url: string, primary_color: string, primary_dark: string, accent_color: string, share_title: string}} Brand
 * @returns {Brand}
 */
function get() {
  const stored = wx.getStorageSync(KEY)
  return stored && stored.site_name ? {...DEFAULT, ...stored} : {...DEFAULT}
}

/** @returns {boolean} */
function stored() {
  const value = wx.getStorageSync(KEY)
  return !!(value && value.site_name)
}

/** @type {Promise<Brand> | null} */
let fetching = null

/** Fetch the brand now (public, no login) and store it. Never rejects: on failure the stored copy stays. */
function refresh() {
  if (fetching) return fetching
  fetching = api
    .request('/api/v1/brand/', {auth: false, quiet: true})
    .then(
      (/** @type {any} */ body) => {
        store(body)
        return get()
      },
      () => get(),
    )
    .finally(() => {
      fetching = null
    })
  return fetching
}

/** The brand once any fetch under way has finished (at once when none is). @returns {Promise<Brand>} */
function whenFresh() {
  return fetching || Promise.resolve(get())
}

/** Fetch only when nothing is stored yet. */
function ensure() {
  return stored() ? Promise.resolve(get()) : refresh()
}

/**
 * An API answer named the current brand version: refetch when the stored copy is another one. Nothing
 * stored: ensure() fetches it at its moment, not in the middle of the first screen's calls.
 * @param {string} version
 */
function seen(version) {
  if (!version || fetching) return
  const current = wx.getStorageSync(KEY)
  if (!current || !current.site_name || current.version === version) return
  refresh()
}

/** Store a brand the server sent (GET /api/v1/brand/, or an answer's X-Brand header). @param {any} body */
function store(body) {
  /** @type {Record<string, any>} */
  const value = {}
  for (const key of Object.keys(DEFAULT)) if (typeof body[key] === 'string') value[key] = body[key]
  if (value.site_name) wx.setStorageSync(KEY, value)
}

api.onBrandVersion(seen)
api.onBrand({
  known: () => {
    const current = wx.getStorageSync(KEY)
    return current && current.version ? current.version : 'none'
  },
  received: store,
})

/** @param {string} hex @param {string} fallback */
function colour(hex, fallback) {
  return /^#[0-9a-fA-F]{6}$/.test(hex) ? hex : fallback
}

/**
 * Show the brand on the current page: the navigation bar's title (the site name unless the page has its
 * own) and colour (the accessible primary shade, white text), and the tab bar's selected colour.
 * @param {{title?: string}} [options]
 */
function apply(options = {}) {
  const brand = get()
  const noop = () => {}
  wx.setNavigationBarTitle({title: options.title || brand.site_name, fail: noop})
  wx.setNavigationBarColor({
    frontColor: '#ffffff',
    backgroundColor: colour(brand.primary_color, DEFAULT.primary_color),
    fail: noop,
  })
  if (wx.setTabBarStyle) wx.setTabBarStyle({selectedColor: colour(brand.primary_color, DEFAULT.primary_color), fail: noop})
  return brand
}

module.exports = {get, refresh, ensure, seen, apply, whenFresh, DEFAULT, KEY}
