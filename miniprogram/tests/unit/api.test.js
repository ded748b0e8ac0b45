/** The request wrapper: refresh-then-retry on 401, back to login after that, 429, no network. */
const {mockWx, loggedIn, apiCalls} = require('./helpers')
const {ok, memberMe} = require('./fixtures')
const api = require('../../app/utils/api')
const storage = require('../../app/utils/storage')

const LOGIN = 'POST /api/v1/auth/wechat/miniprogram/'
const REFRESH = 'POST /api/v1/auth/token/refresh/'
const ME = 'GET /api/v1/me/'
beforeEach(() => api.resetThrottle())

const loginAnswer = ok({access: 'access-new', refresh: 'refresh-new', user: {id: 1, nickname: '小明', member_no: null}})

test('first call logs in with the wx.login code and the pending referral code', async () => {
  const wx = mockWx({[LOGIN]: loginAnswer, [ME]: ok(memberMe)}, {loginCode: 'the-code'})
  storage.setReferral('REF12345')
  const me = await api.get('/api/v1/me/')
  expect(me.member_no).toBe('ZQ000123')
  expect(apiCalls(wx)).toEqual([LOGIN, ME])
  expect(wx.calls[0].data).toEqual({code: 'the-code', referral_code: 'REF12345'})
  expect(wx.calls[1].header.Authorization).toBe('Bearer access-new')
})

test('an expired access token is refreshed and the call retried once', async () => {
  const wx = mockWx({
    [ME]: [{statusCode: 401, data: {code: 'not_authenticated'}}, ok(memberMe)],
    [REFRESH]: ok({access: 'access-2', refresh: 'refresh-2'}),
  })
  loggedIn(wx)
  await api.get('/api/v1/me/')
  expect(apiCalls(wx)).toEqual([ME, REFRESH, ME])
  expect(wx.calls[1].data).toEqual({refresh: 'refresh-1'})
  expect(wx.calls[2].header.Authorization).toBe('Bearer access-2')
  expect(storage.getTokens()).toEqual({access: 'access-2', refresh: 'refresh-2'})
})

test('a 401 after the refresh goes back to login, then retries', async () => {
  const wx = mockWx({
    [ME]: [{statusCode: 401, data: {}}, {statusCode: 401, data: {}}, ok(memberMe)],
    [REFRESH]: ok({access: 'access-2', refresh: 'refresh-2'}),
    [LOGIN]: loginAnswer,
  })
  loggedIn(wx)
  await api.get('/api/v1/me/')
  expect(apiCalls(wx)).toEqual([ME, REFRESH, ME, LOGIN, ME])
  expect(wx.calls[4].header.Authorization).toBe('Bearer access-new')
})

test('when login fails too the member is told to come back, and the tokens are gone', async () => {
  const wx = mockWx({
    [ME]: {statusCode: 401, data: {}},
    [REFRESH]: {statusCode: 401, data: {code: 'token_not_valid'}},
    [LOGIN]: {statusCode: 400, data: {code: 'wechat_login_failed', message: '微信登录失败，请重试'}},
  })
  loggedIn(wx)
  await expect(api.get('/api/v1/me/')).rejects.toMatchObject({status: 401, code: 'unauthenticated', message: '登录已失效，请重新进入小程序'})
  expect(apiCalls(wx)).toEqual([ME, REFRESH, LOGIN])
  expect(storage.getTokens()).toBeNull()
})

test('429: says so, waits Retry-After and retries once', async () => {
  const wx = mockWx({[ME]: [{statusCode: 429, data: {code: 'throttled'}, header: {'Retry-After': '1'}}, ok(memberMe)]})
  loggedIn(wx)
  const started = Date.now()
  await api.get('/api/v1/me/')
  expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  expect(wx.toasts).toEqual(['操作太频繁，请稍后再试（1 秒）'])
  expect(apiCalls(wx)).toEqual([ME, ME])
})

test('429 twice: a clear error with the seconds, no third try, and no call at all until Retry-After', async () => {
  const wx = mockWx({[ME]: {statusCode: 429, data: {}, header: {'Retry-After': '30'}}})
  loggedIn(wx)
  const config = require('../../app/config')
  const cap = config.maxRetryAfterSeconds
  config.maxRetryAfterSeconds = 1
  try {
    await expect(api.get('/api/v1/me/')).rejects.toMatchObject({code: 'throttled', message: '操作太频繁，请稍后再试（30 秒）'})
  } finally {
    config.maxRetryAfterSeconds = cap
  }
  expect(apiCalls(wx)).toEqual([ME, ME])
  // Within the window: refused at once, nothing sent (no hammering), and said again.
  await expect(api.post('/api/v1/orders/', {})).rejects.toMatchObject({code: 'throttled', message: expect.stringMatching(/^操作太频繁，请稍后再试（(29|30) 秒）$/)})
  expect(apiCalls(wx)).toEqual([ME, ME])
  expect(wx.toasts[wx.toasts.length - 1]).toMatch(/请稍后再试/)
})

test('no network before a change: nothing is sent, the member is told with a toast', async () => {
  const wx = mockWx({'POST /api/v1/circles/posts/9/comments/': ok({id: 1})}, {networkType: 'none'})
  loggedIn(wx)
  await expect(api.post('/api/v1/circles/posts/9/comments/', {body: '好'})).rejects.toMatchObject({code: 'network'})
  expect(apiCalls(wx)).toEqual([])
  expect(wx.toasts).toEqual(['网络不可用，请检查网络后重试'])
})

test('no network on upload: nothing is sent', async () => {
  const uploads = []
  const wx = mockWx({}, {networkType: 'none', uploadFile: o => uploads.push(o)})
  loggedIn(wx)
  await expect(api.upload('/api/v1/circles/1/posts/', {filePath: 'a.png', name: 'images'})).rejects.toMatchObject({code: 'network'})
  expect(uploads).toEqual([])
})

test('no network: a clear message and a toast', async () => {
  const wx = mockWx({})
  loggedIn(wx)
  await expect(api.get('/api/v1/me/')).rejects.toMatchObject({code: 'network', message: '网络不可用，请检查网络后重试'})
  expect(wx.toasts).toEqual(['网络不可用，请检查网络后重试'])
})

test('server errors keep the server code and message', async () => {
  const wx = mockWx({'GET /api/v1/lessons/9/': {statusCode: 403, data: {code: 'not_entitled', message: '需要开通会员'}}})
  loggedIn(wx)
  await expect(api.get('/api/v1/lessons/9/')).rejects.toMatchObject({status: 403, code: 'not_entitled', message: '需要开通会员'})
})
