/**
 * Unit-test helpers: a mocked `wx` whose network answers come from a route table, and rendering a page
 * (pages are built with Component(), so miniprogram-simulate renders them like components).
 */
const path = require('path')
const simulate = require('miniprogram-simulate')

const APP = path.join(__dirname, '../../app')

/**
 * @param {Record<string, any>} routes 'METHOD /path/' → {statusCode, data, header} | (req) => that
 * @param {object} [options]
 */
function mockWx(routes = {}, options = {}) {
  const storage = new Map()
  const calls = []
  const toasts = []
  const ui = []
  const wx = {
    calls,
    toasts,
    ui,
    storage,
    getStorageSync: key => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => storage.set(key, value),
    removeStorageSync: key => storage.delete(key),
    login: ({success}) => success({code: options.loginCode || 'wx-code-1', errMsg: 'login:ok'}),
    request({url, method = 'GET', data, header, success, fail}) {
      const pathname = url.replace(/^https?:\/\/[^/]+/, '')
      const key = `${method} ${pathname}`
      calls.push({key, data, header})
      let route = routes[key]
      if (Array.isArray(route)) route = route.length > 1 ? route.shift() : route[0]
      if (typeof route === 'function') route = route({key, data, header})
      setTimeout(() => {
        if (route === undefined) return fail({errMsg: 'request:fail'}) // no route: the network is down
        success({statusCode: route.statusCode || 200, data: route.data, header: route.header || {}})
      }, 0)
    },
    uploadFile: options.uploadFile,
    // 'DOWNLOAD /path' → {statusCode, tempFilePath} (or a function of the request); no route: network down.
    downloadFile({url, header, success, fail}) {
      const pathname = url.replace(/^https?:\/\/[^/]+/, '')
      const key = `DOWNLOAD ${pathname}`
      calls.push({key, header})
      let route = routes[key]
      if (Array.isArray(route)) route = route.length > 1 ? route.shift() : route[0]
      if (typeof route === 'function') route = route({key, header})
      setTimeout(() => {
        if (route === undefined) return fail({errMsg: 'downloadFile:fail'})
        success({statusCode: route.statusCode || 200, tempFilePath: route.tempFilePath || `wxfile://tmp${pathname}`})
      }, 0)
    },
    saveImageToPhotosAlbum: opts => {
      calls.push({key: `saveImageToPhotosAlbum ${opts.filePath}`})
      setTimeout(() => (options.saveImage || (o => o.success({errMsg: 'saveImageToPhotosAlbum:ok'})))(opts), 0)
    },
    openSetting: opts => {
      calls.push({key: 'openSetting'})
      setTimeout(() => (options.openSetting || (o => o.success({authSetting: {}})))(opts), 0)
    },
    setNavigationBarTitle() {},
    previewImage() {},
    getDeviceInfo: () => ({platform: options.platform || 'android'}),
    getSystemInfoSync: () => ({platform: options.platform || 'android'}),
    requestPayment: opts => setTimeout(() => (options.payment || (o => o.success({errMsg: 'requestPayment:ok'})))(opts), 0),
    showToast: opts => toasts.push(opts.title),
    showModal: opts => opts.success({confirm: true, cancel: false}),
    navigateTo: opts => calls.push({key: `navigateTo ${opts.url}`}),
    redirectTo: opts => calls.push({key: `redirectTo ${opts.url}`}),
    switchTab: opts => calls.push({key: `switchTab ${opts.url}`}),
    reLaunch: opts => calls.push({key: `reLaunch ${opts.url}`}),
    stopPullDownRefresh() {},
    setNavigationBarTitle: opts => ui.push({title: opts.title}),
    setNavigationBarColor: opts => ui.push({frontColor: opts.frontColor, backgroundColor: opts.backgroundColor}),
    setTabBarStyle: opts => ui.push({selectedColor: opts.selectedColor}),
    getNetworkType: opts => setTimeout(() => opts.success({networkType: options.networkType || 'wifi'}), 0),
    createInnerAudioContext: () => options.audio || ({onTimeUpdate() {}, onPlay() {}, onPause() {}, onStop() {}, onEnded() {}, play() {}, pause() {}, destroy() {}}),
  }
  global.wx = wx
  return wx
}

/** Logged in already: tokens in storage (so no login call). */
function loggedIn(wx) {
  wx.setStorageSync('zq_tokens', {access: 'access-1', refresh: 'refresh-1'})
  wx.setStorageSync('zq_user', {id: 1, nickname: '小明', member_no: 'ZQ000001'})
}

/** Network calls only (not navigation). */
function apiCalls(wx) {
  return wx.calls.filter(c => /^(GET|POST|PUT|PATCH|DELETE|DOWNLOAD) /.test(c.key)).map(c => c.key)
}

/** Render a page and run its onLoad. @returns {Promise<any>} the simulate component */
const loaded = {}

async function renderPage(page, query = {}) {
  // Jest keeps its own module registry, so a page's code runs (and registers) once per test file.
  const id = loaded[page] || (loaded[page] = simulate.load(path.join(APP, page), {rootPath: APP}))
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  await comp.instance.onLoad(query)
  await simulate.sleep(0)
  return comp
}

/** The text a member sees: text nodes joined by one space. */
function text(comp, selector) {
  const node = selector ? comp.querySelector(selector) : comp
  if (!node) return ''
  const walker = document.createTreeWalker(node.dom, NodeFilter.SHOW_TEXT)
  const parts = []
  while (walker.nextNode()) {
    const value = walker.currentNode.nodeValue.replace(/\s+/g, ' ').trim()
    if (value) parts.push(value)
  }
  return parts.join(' ')
}

module.exports = {mockWx, loggedIn, apiCalls, renderPage, text, APP}
