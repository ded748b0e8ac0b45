// @ts-check
/**
 * The request wrapper and login.
 *
 * - Login: wx.login → POST /api/v1/auth/wechat/miniprogram/ (API.md row 1) with the pending referral code.
 * - Every call carries `Authorization: Bearer <access>`. On 401 the access token is refreshed and the call is
 *   retried once; a 401 after that (or a refresh that fails) clears the tokens and logs in again with a fresh
 *   wx.login code, then retries one last time.
 * - 429: tells the member to wait (请稍后再试 with the seconds of Retry-After), waits (capped) and retries
 *   once; a second 429 makes every call fail at once, without the network, until Retry-After has passed.
 * - No network: checked with wx.getNetworkType before a change is sent (nothing is sent), and a failed
 *   request: an ApiError with code `network`, a plain message and a toast. Nothing is changed.
 * - Every answer's `X-Brand-Version` header goes to the brand module (utils/brand.js).
 */
const config = require('../config')
const storage = require('./storage')

class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 without a response)
   * @param {string} code machine code from the server, or network / throttled / unauthenticated
   * @param {string} message text for the member
   * @param {any} [body]
   */
  constructor(status, code, message, body) {
    super(message)
    this.status = status
    this.code = code
    this.body = body
  }
}

const MESSAGES = {
  network: '网络不可用，请检查网络后重试',
  throttled: '操作太频繁，请稍后再试',
  /** @param {number} seconds */
  wait: seconds => `操作太频繁，请稍后再试（${seconds} 秒）`,
  unauthenticated: '登录已失效，请重新进入小程序',
  server: '服务暂时不可用，请稍后再试',
}

/** @type {((version: string) => void) | null} */
let brandListener = null
/** @type {((brand: Record<string, any>) => void) | null} */
let brandReceiver = null
/** @type {() => string} */
let brandKnown = () => ''

/** utils/brand.js listens to the brand version every answer carries. @param {(version: string) => void} listener */
function onBrandVersion(listener) {
  brandListener = listener
}

/**
 * utils/brand.js names the copy it holds (`X-Brand-Known`, 'none' when nothing is stored) and receives
 * the brand the server sends along (`X-Brand`) when that copy is stale: the first launch's first call
 * brings it, so no screen spends a call of its own on it.
 * @param {{known: () => string, received: (brand: Record<string, any>) => void}} hooks
 */
function onBrand(hooks) {
  brandKnown = hooks.known
  brandReceiver = hooks.received
}

/** @param {Record<string, string>} header */
function noticeBrand(header) {
  const carried = header['X-Brand'] || header['x-brand']
  if (carried && brandReceiver) {
    try {
      brandReceiver(JSON.parse(decodeURIComponent(carried)))
    } catch (e) {
      /* a garbled header: the version below still triggers a fetch */
    }
  }
  const version = header['X-Brand-Version'] || header['x-brand-version']
  if (version && brandListener) brandListener(version)
}

/** Until when (ms since epoch) the server asked us to stop: calls before then fail without the network. */
let throttledUntil = 0

/** @returns {Promise<boolean>} false only when WeChat says there is no network at all */
function online() {
  if (typeof wx.getNetworkType !== 'function') return Promise.resolve(true)
  return new Promise(resolve => {
    wx.getNetworkType({
      success: res => resolve(res.networkType !== 'none'),
      fail: () => resolve(true),
    })
  })
}

/**
 * @typedef {{statusCode: number, data: any, header: Record<string, string>}} RawResponse
 * @param {string} path
 * @param {{method?: string, data?: any, token?: string}} options
 * @returns {Promise<RawResponse>}
 */
function send(path, {method = 'GET', data, token}) {
  return new Promise((resolve, reject) => {
    /** @type {Record<string, string>} */
    const header = {'Content-Type': 'application/json', 'Accept-Language': 'zh-hans'}
    if (token) header.Authorization = `Bearer ${token}`
    const known = brandKnown()
    if (known) header['X-Brand-Known'] = known
    wx.request({
      url: config.baseUrl + path,
      method: /** @type {any} */ (method),
      data,
      header,
      success: res => {
        const header = /** @type {any} */ (res.header) || {}
        noticeBrand(header)
        resolve({statusCode: res.statusCode, data: res.data, header})
      },
      fail: () => reject(new ApiError(0, 'network', MESSAGES.network)),
    })
  })
}

/** @param {RawResponse} res */
function errorFrom(res) {
  const body = res.data && typeof res.data === 'object' ? res.data : {}
  const code = body.code || (res.statusCode >= 500 ? 'server' : `http_${res.statusCode}`)
  const message = body.message || (res.statusCode >= 500 ? MESSAGES.server : '请求失败')
  return new ApiError(res.statusCode, code, message, body)
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** @type {Promise<boolean> | null} */
let refreshing = null

/** One refresh at a time: concurrent 401s share it. @returns {Promise<boolean>} */
function refreshTokens() {
  if (refreshing) return refreshing
  refreshing = (async () => {
    const tokens = storage.getTokens()
    if (!tokens || !tokens.refresh) return false
    try {
      const res = await send('/api/v1/auth/token/refresh/', {method: 'POST', data: {refresh: tokens.refresh}})
      if (res.statusCode !== 200 || !res.data.access) return false
      storage.setTokens({access: res.data.access, refresh: res.data.refresh})
      return true
    } catch (e) {
      return false
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

/** @returns {Promise<string>} a wx.login code (or the development sandbox code) */
function loginCode() {
  if (config.sandboxLogin) return Promise.resolve(`sandbox:${config.sandboxUser}`)
  return new Promise((resolve, reject) => {
    wx.login({
      success: res => (res.code ? resolve(res.code) : reject(new ApiError(0, 'wechat_login_failed', '微信登录失败，请重试'))),
      fail: () => reject(new ApiError(0, 'network', MESSAGES.network)),
    })
  })
}

/** @type {Promise<any> | null} */
let loggingIn = null

/**
 * Log in (API.md row 1). Binds the pending referral code on the server (new users only).
 * @returns {Promise<{id: number, nickname: string, member_no: string | null}>}
 */
function login() {
  if (loggingIn) return loggingIn
  loggingIn = (async () => {
    try {
      const code = await loginCode()
      const res = await send('/api/v1/auth/wechat/miniprogram/', {
        method: 'POST',
        data: {code, referral_code: storage.getReferral()},
      })
      if (res.statusCode !== 200) throw errorFrom(res)
      storage.setTokens({access: res.data.access, refresh: res.data.refresh})
      storage.setUser(res.data.user)
      return res.data.user
    } finally {
      loggingIn = null
    }
  })()
  return loggingIn
}

/** Logged in already, or log in now. */
async function ensureLogin() {
  if (storage.getTokens()) return storage.getUser()
  return login()
}

function logout() {
  storage.clearTokens()
}

/**
 * An authenticated API call. Resolves with the JSON body of a 2xx answer, rejects with ApiError.
 * Network trouble and throttling are also shown as a toast, unless `quiet`.
 * @param {string} path e.g. '/api/v1/me/'
 * @param {{method?: string, data?: any, auth?: boolean, quiet?: boolean}} [options]
 */
async function request(path, options = {}) {
  try {
    return await attempt(path, options)
  } catch (error) {
    if (!options.quiet && error && (error.code === 'network' || error.code === 'throttled')) {
      wx.showToast({title: error.message, icon: 'none'})
    }
    throw error
  }
}

/** @param {number} seconds */
function throttledError(seconds) {
  return new ApiError(429, 'throttled', MESSAGES.wait(seconds))
}

/**
 * @param {string} path
 * @param {{method?: string, data?: any, auth?: boolean}} options
 */
async function attempt(path, options) {
  const {method = 'GET', data, auth = true} = options
  const waitLeft = Math.ceil((throttledUntil - Date.now()) / 1000)
  if (waitLeft > 0) throw throttledError(waitLeft) // no hammering: the server asked us to wait
  if (method !== 'GET' && !(await online())) throw new ApiError(0, 'network', MESSAGES.network)
  if (auth) await ensureLogin()
  const call = () => send(path, {method, data, token: auth ? (storage.getTokens() || {access: ''}).access : ''})
  let res = await call()
  if (res.statusCode === 401 && auth) {
    if (await refreshTokens()) res = await call()
    if (res.statusCode === 401) {
      storage.clearTokens()
      try {
        await login()
      } catch (e) {
        throw new ApiError(401, 'unauthenticated', MESSAGES.unauthenticated)
      }
      res = await call()
      if (res.statusCode === 401) {
        storage.clearTokens()
        throw new ApiError(401, 'unauthenticated', MESSAGES.unauthenticated)
      }
    }
  }
  if (res.statusCode === 429) {
    const after = retryAfter(res)
    const seconds = Math.min(after, config.maxRetryAfterSeconds)
    wx.showToast({title: MESSAGES.wait(seconds), icon: 'none'})
    await sleep(seconds * 1000)
    res = await call()
    if (res.statusCode === 429) {
      const again = retryAfter(res)
      throttledUntil = Date.now() + again * 1000
      throw throttledError(again)
    }
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw errorFrom(res)
  return res.data
}

/** Retry-After in whole seconds (at least 1). @param {RawResponse} res */
function retryAfter(res) {
  const header = res.header || {}
  const value = Number(header['Retry-After'] || header['retry-after'] || 1)
  return Number.isFinite(value) && value >= 1 ? Math.ceil(value) : 1
}

/** Forget a throttling window (tests; a new launch starts fresh anyway). */
function resetThrottle() {
  throttledUntil = 0
}

/**
 * wx.uploadFile with the same auth rules (one refresh-and-retry on 401).
 * @param {string} path
 * @param {{filePath: string, name: string, formData?: Record<string, any>}} file
 */
async function upload(path, {filePath, name, formData = {}}) {
  if (!(await online())) throw new ApiError(0, 'network', MESSAGES.network) // nothing is sent
  await ensureLogin()
  /** @returns {Promise<RawResponse>} */
  const call = () =>
    new Promise((resolve, reject) => {
      wx.uploadFile({
        url: config.baseUrl + path,
        filePath,
        name,
        formData,
        header: {Authorization: `Bearer ${(storage.getTokens() || {access: ''}).access}`, 'Accept-Language': 'zh-hans'},
        success: res => {
          let body = res.data
          try {
            body = JSON.parse(res.data)
          } catch (e) {
            /* not JSON */
          }
          resolve({statusCode: res.statusCode, data: body, header: {}})
        },
        fail: () => reject(new ApiError(0, 'network', MESSAGES.network)),
      })
    })
  let res = await call()
  if (res.statusCode === 401 && (await refreshTokens())) res = await call()
  if (res.statusCode === 401) {
    storage.clearTokens()
    throw new ApiError(401, 'unauthenticated', MESSAGES.unauthenticated)
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw errorFrom(res)
  return res.data
}

/**
 * wx.downloadFile of a protected image (ticket QR, poster, certificate) with the Bearer token, which an
 * <image src> cannot send. Same auth rules as upload: one refresh-and-retry on 401.
 * @param {string} path e.g. '/api/v1/camps/terms/3/poster.png'
 * @returns {Promise<string>} the temp file path
 */
async function download(path) {
  if (!(await online())) throw new ApiError(0, 'network', MESSAGES.network)
  await ensureLogin()
  /** @returns {Promise<{statusCode: number, tempFilePath: string}>} */
  const call = () =>
    new Promise((resolve, reject) => {
      wx.downloadFile({
        url: config.baseUrl + path,
        header: {Authorization: `Bearer ${(storage.getTokens() || {access: ''}).access}`, 'Accept-Language': 'zh-hans'},
        success: res => resolve({statusCode: res.statusCode, tempFilePath: res.tempFilePath}),
        fail: () => reject(new ApiError(0, 'network', MESSAGES.network)),
      })
    })
  let res = await call()
  if (res.statusCode === 401 && (await refreshTokens())) res = await call()
  if (res.statusCode === 401) {
    storage.clearTokens()
    throw new ApiError(401, 'unauthenticated', MESSAGES.unauthenticated)
  }
  if (res.statusCode === 429) throw new ApiError(429, 'throttled', MESSAGES.throttled)
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const message = res.statusCode >= 500 ? MESSAGES.server : res.statusCode === 404 ? '图片不存在或已失效' : '图片加载失败'
    throw new ApiError(res.statusCode, res.statusCode >= 500 ? 'server' : `http_${res.statusCode}`, message)
  }
  return res.tempFilePath
}

/** Show an ApiError (or anything thrown) to the member. @param {any} error */
function showError(error) {
  const message = (error && error.message) || MESSAGES.server
  wx.showToast({title: message, icon: 'none'})
  return message
}

module.exports = {
  ApiError,
  request,
  onBrandVersion,
  onBrand,
  resetThrottle,
  upload,
  download,
  login,
  ensureLogin,
  logout,
  showError,
  get: (/** @type {string} */ path) => request(path),
  post: (/** @type {string} */ path, /** @type {any} */ data) => request(path, {method: 'POST', data}),
  del: (/** @type {string} */ path) => request(path, {method: 'DELETE'}),
}
