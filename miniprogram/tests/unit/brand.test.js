/** The creator's brand: from storage, or carried by an answer (X-Brand) when the stored copy is stale;
 * the home screen keeps its 3 calls; titles, colours, welcome and share titles follow it; 知圈 only offline. */
const {mockWx, loggedIn, apiCalls, renderPage, text} = require('./helpers')
const {ok, tiers, visitorMe, memberMe, courses} = require('./fixtures')
const brand = require('../../app/utils/brand')

const BRAND = 'GET /api/v1/brand/'
const LOGIN = 'POST /api/v1/auth/wechat/miniprogram/'
const chendu = {
  version: 'v2', site_name: '晨读社', short_name: '晨读', tagline: '每天一小时', description: '读书会员社群', logo_url: '',
  primary_color: '#2b4bb0', primary_dark: '#223c8c', accent_color: '#c2410c', share_title: '晨读社 · 和我一起读书',
}
const withVersion = (data, version) => ({statusCode: 200, data, header: {'X-Brand-Version': version}})

test('a stored brand: home shows it and stays within 3 calls from a cold start', async () => {
  const wx = mockWx({
    [LOGIN]: withVersion({access: 'a', refresh: 'r', user: {id: 1, nickname: '小明', member_no: null}}, 'v2'),
    'GET /api/v1/me/': withVersion(visitorMe, 'v2'),
    'GET /api/v1/membership/tiers/': withVersion(tiers, 'v2'),
    [BRAND]: ok(chendu),
  })
  wx.setStorageSync(brand.KEY, chendu)
  await brand.ensure() // what App.onLaunch does: nothing to fetch
  const comp = await renderPage('pages/home/index')
  comp.instance.onShow()
  await new Promise(r => setTimeout(r, 5))
  expect(text(comp, '#welcome')).toBe('欢迎来到晨读社')
  expect(text(comp, '#tagline')).toBe('每天一小时')
  expect(comp.instance.onShareAppMessage().title).toBe('晨读社 · 和我一起读书')
  expect(comp.instance.onShareTimeline().title).toBe('晨读社 · 和我一起读书')
  expect(wx.ui).toContainEqual({title: '晨读社'})
  expect(wx.ui).toContainEqual({frontColor: '#ffffff', backgroundColor: '#2b4bb0'})
  expect(wx.ui).toContainEqual({selectedColor: '#2b4bb0'})
  expect(apiCalls(wx)).toEqual([LOGIN, 'GET /api/v1/me/', 'GET /api/v1/membership/tiers/'])
})

test('a rename: the version header differs, the brand is fetched once and the home shows the new name', async () => {
  const renamed = {...chendu, version: 'v3', site_name: '晚读社', share_title: '晚读社 · 一起读'}
  const wx = mockWx({
    'GET /api/v1/me/': withVersion(memberMe, 'v3'),
    'GET /api/v1/courses/': withVersion(courses, 'v3'),
    [BRAND]: withVersion(renamed, 'v3'),
  })
  loggedIn(wx)
  wx.setStorageSync(brand.KEY, chendu)
  const comp = await renderPage('pages/home/index')
  await new Promise(r => setTimeout(r, 10))
  expect(apiCalls(wx)).toEqual(['GET /api/v1/me/', BRAND, 'GET /api/v1/courses/'])
  expect(wx.getStorageSync(brand.KEY).site_name).toBe('晚读社')
  expect(comp.instance.onShareAppMessage().title).toBe('晚读社 · 一起读')
  expect(wx.ui).toContainEqual({title: '晚读社'})
})

test('the very first launch: the login answer brings the brand, and the home screen keeps its 3 calls', async () => {
  const carried = {'X-Brand-Version': 'v2', 'X-Brand': encodeURIComponent(JSON.stringify(chendu))}
  const wx = mockWx({
    [LOGIN]: {statusCode: 200, data: {access: 'a', refresh: 'r', user: {id: 1, nickname: '小明', member_no: null}}, header: carried},
    'GET /api/v1/me/': withVersion(visitorMe, 'v2'),
    'GET /api/v1/membership/tiers/': withVersion(tiers, 'v2'),
    [BRAND]: withVersion(chendu, 'v2'),
  })
  const home = await renderPage('pages/home/index')
  await new Promise(r => setTimeout(r, 5))
  expect(apiCalls(wx)).toEqual([LOGIN, 'GET /api/v1/me/', 'GET /api/v1/membership/tiers/'])
  const sent = wx.calls.filter(c => /^(GET|POST) /.test(c.key)).map(c => c.header['X-Brand-Known'])
  expect(sent).toEqual(['none', 'v2', 'v2']) // nothing stored, then the copy the login answer brought
  expect(text(home, '#welcome')).toBe('欢迎来到晨读社')
  expect(wx.getStorageSync(brand.KEY).version).toBe('v2')
})

test('an older server that sends no X-Brand: the brand is fetched once after the home screen', async () => {
  const wx = mockWx({
    [LOGIN]: withVersion({access: 'a', refresh: 'r', user: {id: 1, nickname: '小明', member_no: null}}, 'v2'),
    'GET /api/v1/me/': withVersion(visitorMe, 'v2'),
    'GET /api/v1/membership/tiers/': withVersion(tiers, 'v2'),
    [BRAND]: withVersion(chendu, 'v2'),
  })
  const home = await renderPage('pages/home/index')
  const calls = apiCalls(wx)
  expect(calls.slice(0, 3)).toEqual([LOGIN, 'GET /api/v1/me/', 'GET /api/v1/membership/tiers/'])
  expect(calls.slice(3)).toEqual([BRAND])
  await new Promise(r => setTimeout(r, 5))
  expect(text(home, '#welcome')).toBe('欢迎来到晨读社')
})

test('an app opened on another page (a shared post) fetches the brand at launch', async () => {
  const wx = mockWx({[BRAND]: ok(chendu)})
  const app = require('path').join(require('./helpers').APP, 'app.js')
  let definition = null
  global.App = def => {
    definition = def
  }
  jest.isolateModules(() => require(app))
  definition.onLaunch({path: 'pkg-community/post/index', query: {id: '9'}})
  await new Promise(r => setTimeout(r, 5))
  expect(apiCalls(wx)[0]).toBe(BRAND)
})

test('the first launch fetches the brand once, without logging in', async () => {
  const wx = mockWx({[BRAND]: ok(chendu)})
  const info = await brand.ensure()
  expect(info.site_name).toBe('晨读社')
  await brand.ensure()
  expect(apiCalls(wx)).toEqual([BRAND])
  expect(wx.calls[0].header.Authorization).toBeUndefined()
})

test('offline with nothing stored: the platform default, no toast for the brand', async () => {
  const wx = mockWx({})
  const info = await brand.ensure()
  expect(info.site_name).toBe('知圈')
  expect(wx.toasts).toEqual([])
  expect(wx.getStorageSync(brand.KEY)).toBe('')
})

test('the member centre shares with the brand name', async () => {
  const wx = mockWx({'GET /api/v1/me/': ok(memberMe), 'GET /api/v1/orders/': ok({count: 0, next: null, previous: null, results: []})})
  loggedIn(wx)
  wx.setStorageSync(brand.KEY, chendu)
  const comp = await renderPage('pages/me/index')
  expect(comp.instance.onShareAppMessage().title).toBe('邀请你加入晨读社')
})

test('知圈 is written in the app code only as the offline default', () => {
  const fs = require('fs')
  const path = require('path')
  const {APP} = require('./helpers')
  const walk = dir => fs.readdirSync(dir, {withFileTypes: true}).flatMap(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))
  const offenders = walk(APP).filter(f => !f.endsWith(path.join('utils', 'brand.js')) && fs.readFileSync(f, 'utf8').includes('知圈'))
  expect(offenders).toEqual([])
})
