/**
 * Runs the mini-program's real code in Node: a `wx` whose request/uploadFile speak HTTP to the live server
 * (ZQ_API_BASE_URL), whose login asks the test's WeChat fake (ZQ_WECHAT_FAKE_URL) for a code its
 * jscode2session accepts, and whose requestPayment has the fake pay and notify the server.
 * Pages are built with Component(): openPage() runs one with data/setData like the WeChat runtime.
 */
const fs = require('fs')
const path = require('path')

const APP = path.join(__dirname, '../../app')
const API = process.env.ZQ_API_BASE_URL
const FAKE = process.env.ZQ_WECHAT_FAKE_URL
// Against `make demo` (npm run journeys:demo) there is no WeChat fake: only the sandbox journeys run.
if (!API) throw new Error('ZQ_API_BASE_URL must be set (tests/miniprogram/test_journeys.py sets it; npm run journeys:demo too)')

const config = require('../../app/config')
config.baseUrl = API.replace(/\/$/, '')
config.payPollMs = 300
config.payPollTimes = 20

const state = {user: 'member', storage: new Map(), log: [], nextPayment: 'pay', toasts: [], platform: 'android', nextImage: null, subscribeAsked: [], downloads: [], album: [], ui: [], actionSheet: 0}

// A real 8×8 PNG (the server checks uploads with Pillow), as a photo picked from the album would be.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGNkP5jAgA0wYRUdtBIA658BOJghFJQAAAAASUVORK5CYII=',
  'base64',
)
/** Put a photo in the album: the next wx.chooseMedia picks it. */
function pickPhotoNext() {
  const file = path.join(require('os').tmpdir(), `zq-photo-${process.pid}-${Date.now()}.png`)
  fs.writeFileSync(file, PNG)
  state.nextImage = file
  return file
}

async function jsonPost(url, body) {
  const res = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
  const text = await res.text()
  let data = text
  try {
    data = JSON.parse(text)
  } catch (e) {
    /* keep text */
  }
  return {status: res.status, data}
}

function headersOf(res) {
  const out = {}
  res.headers.forEach((value, key) => {
    out[key] = value
  })
  return out
}

const wx = {
  getStorageSync: key => (state.storage.has(key) ? state.storage.get(key) : ''),
  setStorageSync: (key, value) => state.storage.set(key, JSON.parse(JSON.stringify(value))),
  removeStorageSync: key => state.storage.delete(key),
  login({success, fail}) {
    if (!FAKE) return setTimeout(() => fail({errMsg: 'login:fail no WeChat fake: set config.sandboxLogin (make demo)'}), 0)
    jsonPost(`${FAKE}/_miniprogram/login`, {user: state.user}).then(
      res => success({code: res.data.code, errMsg: 'login:ok'}),
      () => fail({errMsg: 'login:fail'}),
    )
  },
  request({url, method = 'GET', data, header = {}, success, fail}) {
    state.log.push(`${method} ${url.replace(API, '')}`)
    const init = {method, headers: header}
    if (data !== undefined && method !== 'GET') init.body = JSON.stringify(data)
    fetch(url, init)
      .then(async res => {
        const text = await res.text()
        let body = text
        try {
          body = JSON.parse(text)
        } catch (e) {
          /* not JSON */
        }
        success({statusCode: res.status, data: body, header: headersOf(res), errMsg: 'request:ok'})
      })
      .catch(() => fail({errMsg: 'request:fail'}))
  },
  uploadFile({url, filePath, name, formData = {}, header = {}, success, fail}) {
    state.log.push(`UPLOAD ${url.replace(API, '')}`)
    const form = new FormData()
    for (const [key, value] of Object.entries(formData)) form.append(key, String(value))
    form.append(name, new Blob([fs.readFileSync(filePath)], {type: 'image/png'}), path.basename(filePath))
    fetch(url, {method: 'POST', headers: header, body: form})
      .then(async res => success({statusCode: res.status, data: await res.text(), errMsg: 'uploadFile:ok'}))
      .catch(() => fail({errMsg: 'uploadFile:fail'}))
  },
  requestPayment(params) {
    const {success, fail} = params
    if (state.nextPayment === 'cancel') {
      state.nextPayment = 'pay'
      setTimeout(() => fail({errMsg: 'requestPayment:fail cancel'}), 0)
      return
    }
    const {timeStamp, nonceStr, signType, paySign} = params
    const body = {timeStamp, nonceStr, package: params.package, signType, paySign}
    jsonPost(`${FAKE}/_miniprogram/pay`, body).then(
      res => (res.status === 200 ? success({errMsg: 'requestPayment:ok'}) : fail({errMsg: `requestPayment:fail ${JSON.stringify(res.data)}`})),
      () => fail({errMsg: 'requestPayment:fail network'}),
    )
  },
  /** The payee confirms a 商家转账 in WeChat: the fake pays the bill and notifies the server. */
  requestMerchantTransfer({mchId, appId, package: pkg, success, fail}) {
    state.log.push('requestMerchantTransfer')
    jsonPost(`${FAKE}/_miniprogram/transfer`, {mchId, appId, package: pkg}).then(
      res => (res.status === 200 ? success({errMsg: 'requestMerchantTransfer:ok'}) : fail({errMsg: `requestMerchantTransfer:fail ${JSON.stringify(res.data)}`})),
      () => fail({errMsg: 'requestMerchantTransfer:fail network'}),
    )
  },
  chooseMedia({success, fail}) {
    if (!state.nextImage) return setTimeout(() => fail({errMsg: 'chooseMedia:fail cancel'}), 0)
    const file = state.nextImage
    state.nextImage = null
    setTimeout(() => success({type: 'image', tempFiles: [{tempFilePath: file, size: fs.statSync(file).size, fileType: 'image'}]}), 0)
    return undefined
  },
  setClipboardData() {},
  requestSubscribeMessage({tmplIds, success}) {
    state.subscribeAsked.push(tmplIds)
    setTimeout(() => success({errMsg: 'requestSubscribeMessage:ok', ...Object.fromEntries(tmplIds.map(id => [id, 'accept']))}), 0)
  },
  getDeviceInfo: () => ({platform: state.platform}),
  getSystemInfoSync: () => ({platform: state.platform}),
  showToast: opts => state.toasts.push(opts.title),
  showModal: opts => opts.success({confirm: true, cancel: false}),
  navigateTo: opts => state.log.push(`navigateTo ${opts.url}`),
  redirectTo: opts => state.log.push(`redirectTo ${opts.url}`),
  switchTab: opts => state.log.push(`switchTab ${opts.url}`),
  reLaunch: opts => state.log.push(`reLaunch ${opts.url}`),
  stopPullDownRefresh() {},
  setNavigationBarTitle: opts => state.ui.push({title: opts.title}),
  setNavigationBarColor: opts => state.ui.push({backgroundColor: opts.backgroundColor}),
  setTabBarStyle: opts => state.ui.push({selectedColor: opts.selectedColor}),
  getNetworkType: ({success}) => setTimeout(() => success({networkType: 'wifi'}), 0),
  showActionSheet: ({success}) => setTimeout(() => success({tapIndex: state.actionSheet}), 0),
  createInnerAudioContext: () => ({onTimeUpdate() {}, onPlay() {}, onPause() {}, onStop() {}, onEnded() {}, play() {}, pause() {}, destroy() {}}),
  downloadFile({url, header = {}, success, fail}) {
    state.log.push(`DOWNLOAD ${url.replace(API, '')}`)
    fetch(url, {headers: header})
      .then(async res => {
        const body = Buffer.from(await res.arrayBuffer())
        const file = path.join(require('os').tmpdir(), `zq-download-${process.pid}-${Date.now()}-${state.downloads.length}`)
        fs.writeFileSync(file, body)
        state.downloads.push({url: url.replace(API, ''), file, status: res.status, type: res.headers.get('content-type') || ''})
        success({statusCode: res.status, tempFilePath: file, errMsg: 'downloadFile:ok'})
      })
      .catch(() => fail({errMsg: 'downloadFile:fail'}))
  },
  saveImageToPhotosAlbum({filePath, success}) {
    state.album.push(filePath)
    setTimeout(() => success({errMsg: 'saveImageToPhotosAlbum:ok'}), 0)
  },
  openSetting({success}) {
    setTimeout(() => success({authSetting: {'scope.writePhotosAlbum': true}}), 0)
  },
  previewImage() {},
}
global.wx = wx

const definitions = {}
let captured = null
global.Component = def => {
  captured = def
}
global.App = def => {
  captured = def
}
global.getApp = () => ({globalData: {}})

function definition(file) {
  if (!definitions[file]) {
    captured = null
    require(path.join(APP, file))
    if (!captured) throw new Error(`${file} did not call Component()/App()`)
    definitions[file] = captured
  }
  return definitions[file]
}

/** Open a page like WeChat does: fresh data, setData, methods on `this`, then onLoad(query). */
async function openPage(page, query = {}) {
  const def = definition(`${page}.js`)
  const instance = {
    data: JSON.parse(JSON.stringify(def.data || {})),
    setData(patch) {
      Object.assign(this.data, patch)
    },
  }
  for (const [name, fn] of Object.entries(def.methods || {})) instance[name] = fn.bind(instance)
  if (instance.onLoad) await instance.onLoad(query)
  return instance
}

/** Start the app as WeChat does with launch options (share path or 小程序码). */
function launch(query = {}) {
  const app = definition('app.js')
  app.onLaunch({path: 'pages/home/index', query, scene: 1047})
}

/** A fresh phone: empty storage, and wx.login answers for `user`. */
function asNewPhone(user) {
  state.user = user
  state.storage = new Map()
  state.log = []
  state.toasts = []
  state.ui = []
}

/** Network calls since `from`. */
function requestsSince(from) {
  return state.log.slice(from).filter(line => /^(GET|POST|PUT|PATCH|DELETE|UPLOAD|DOWNLOAD) /.test(line))
}

/**
 * An operator does something in Django admin, as in a browser: signs in (session cookie, CSRF token from
 * the form) and submits the form at `formPath`. The demo's operator (seed_demo) is a finance operator.
 * @param {string} formPath e.g. '/admin/payments/withdrawal/3/approve/'
 * @param {Record<string, string>} [fields]
 */
async function asOperator(formPath, fields = {}) {
  const jar = new Map()
  const keep = res => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
  }
  const cookie = () => Array.from(jar, ([k, v]) => `${k}=${v}`).join('; ')
  const token = html => {
    const found = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)
    if (!found) throw new Error('no CSRF token on the admin form')
    return found[1]
  }
  const submit = async (url, body) => {
    const page = await fetch(API + url, {headers: {Cookie: cookie()}, redirect: 'manual'})
    keep(page)
    const form = new URLSearchParams({...body, csrfmiddlewaretoken: token(await page.text())})
    const res = await fetch(API + url, {
      method: 'POST',
      headers: {Cookie: cookie(), 'Content-Type': 'application/x-www-form-urlencoded', Referer: API + url},
      body: form.toString(),
      redirect: 'manual',
    })
    keep(res)
    if (res.status !== 302) throw new Error(`admin ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`)
    return res
  }
  await submit('/admin/login/?next=/admin/', {username: 'operator', password: 'zhiquan-demo-2026', next: '/admin/'})
  return submit(formPath, fields)
}

module.exports = {state, openPage, launch, asNewPhone, requestsSince, pickPhotoNext, config, asOperator}
