/** 推广中心: agreement, code, poster, invitees, earnings, and the 商家转账 confirm-receipt step with
 * wx.requestMerchantTransfer. */
const {mockWx, loggedIn, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')

const mine = {code: 'ABCD2345', share_url: 'http://127.0.0.1:8000/r/ABCD2345/', invited_count: 3, earnings: {pending_fen: 9900, available_fen: 36000, withdrawn_fen: 0}}
const wallet = {pending_fen: 9900, available_fen: 36000, withdrawing_fen: 0, withdrawn_fen: 0, owed_fen: 0, min_amount_fen: 100, max_amount_fen: 2000000, daily_count_limit: 3, withdrawals_left_today: 3, real_name_required_from_fen: 200000, methods: ['wechat'], can_withdraw: true}
const waiting = {id: 5, amount_fen: 5000, method: 'wechat', method_display: '微信零钱', status: 'paying', status_display: '待确认收款', out_bill_no: 'B1', needs_confirmation: true, confirm_deadline: '2026-12-08T10:00:00+08:00', reject_reason: '', fail_reason: '', created_at: '2026-12-07T10:00:00+08:00', paid_at: null, finished_at: null}

const agreement = {version: 2, title: '推广员协议', body: '第一条 …', published_at: '2026-12-01T10:00:00+08:00', accepted: false}
const invited = page([{name: '小*', bound_at: '2026-12-05T10:00:00+08:00', expires_at: null, channel: 'link', has_paid: true}])

function routes(extra = {}) {
  return {
    'GET /api/v1/referrals/me/': ok(mine),
    'GET /api/v1/referrals/agreement/': ok(agreement),
    'GET /api/v1/referrals/invited/': ok(invited),
    'GET /api/v1/wallet/': ok(wallet),
    'GET /api/v1/wallet/withdrawals/': ok(page([waiting])),
    ...extra,
  }
}

test('the code, invitees and earnings', async () => {
  const wx = mockWx(routes())
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(text(comp, '#code-card')).toBe('我的推荐码 ABCD2345 已邀请 3 人')
  expect(text(comp, '#earnings')).toBe('冻结中 ¥99 可提现 ¥360 已提现 ¥0')
  expect(comp.instance.onShareAppMessage().path).toBe('/pages/home/index?ref=ABCD2345')
})

test('withdrawing asks for the whole available amount by the first method', async () => {
  const wx = mockWx(routes({'POST /api/v1/wallet/withdrawals/': {statusCode: 201, data: {...waiting, id: 6, amount_fen: 36000, status_display: '待审核'}}}))
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  await comp.instance.withdraw()
  const sent = wx.calls.find(c => c.key === 'POST /api/v1/wallet/withdrawals/').data
  expect(sent).toMatchObject({amount_fen: 36000, method: 'wechat'})
  expect(sent.request_id).toMatch(/^mp-/)
  expect(comp.instance.data.notice).toBe('已申请提现 ¥360，待审核')
})

test('confirm receipt: the server arguments go to wx.requestMerchantTransfer, then the server is told', async () => {
  const wx = mockWx(
    routes({
      'GET /api/v1/wallet/withdrawals/5/confirm/': ok({mch_id: '1900000001', app_id: 'wx_app', package_info: 'PKG', confirm_deadline: ''}),
      'POST /api/v1/wallet/withdrawals/5/confirm/': ok({...waiting, status: 'paid', status_display: '已到账', needs_confirmation: false}),
    }),
  )
  const transfers = []
  wx.requestMerchantTransfer = opts => (transfers.push(opts), opts.success({errMsg: 'requestMerchantTransfer:ok'}))
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(text(comp, '.withdrawal')).toBe('¥50 2026-12-07 确认收款')
  await comp.instance.confirmReceipt(5)
  expect(transfers[0]).toMatchObject({mchId: '1900000001', appId: 'wx_app', package: 'PKG'})
  expect(wx.calls.map(c => c.key)).toContain('POST /api/v1/wallet/withdrawals/5/confirm/')
  expect(comp.instance.data.notice).toBe('收款确认：已到账')
})

test('a member who closes the confirmation is told it can be done again', async () => {
  const wx = mockWx(routes({'GET /api/v1/wallet/withdrawals/5/confirm/': ok({mch_id: 'm', app_id: 'a', package_info: 'p', confirm_deadline: ''})}))
  wx.requestMerchantTransfer = opts => opts.fail({errMsg: 'requestMerchantTransfer:fail cancel'})
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  await comp.instance.confirmReceipt(5)
  expect(wx.calls.map(c => c.key)).not.toContain('POST /api/v1/wallet/withdrawals/5/confirm/')
  expect(comp.instance.data.notice).toBe('未确认收款，可在 24 小时内再次确认')
})

test('the agreement is accepted with the version shown, and commission is then earned', async () => {
  const wx = mockWx(routes({'POST /api/v1/referrals/agreement/accept/': {statusCode: 201, data: {version: 2, accepted_at: '2026-12-07T10:00:00+08:00'}}}))
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(text(comp, '#agreement')).toContain('推广员协议')
  expect(text(comp, '#invitees')).toBe('小* 2026-12-05 已购买')
  await comp.instance.acceptAgreement()
  expect(wx.calls.find(c => c.key === 'POST /api/v1/referrals/agreement/accept/').data).toEqual({version: 2})
  await new Promise(r => setTimeout(r, 0))
  expect(comp.querySelector('#agreement')).toBeFalsy()
  expect(text(comp, '#agreed')).toBe('已同意推广员协议')
})

test('an outdated agreement version: told, and the newest is shown', async () => {
  const wx = mockWx(
    routes({
      'GET /api/v1/referrals/agreement/': [ok(agreement), ok({...agreement, version: 3, body: '新版'})],
      'POST /api/v1/referrals/agreement/accept/': {statusCode: 409, data: {code: 'agreement_outdated', message: '协议已更新，请阅读最新版本后再确认'}},
    }),
  )
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(await comp.instance.acceptAgreement()).toBe(false)
  expect(comp.instance.data.agreementVersion).toBe(3)
  expect(comp.instance.data.agreed).toBe(false)
})

test('the poster PNG is downloaded with the token and saved to the album', async () => {
  const wx = mockWx(routes())
  const downloads = []
  wx.downloadFile = o => (downloads.push(o), setTimeout(() => o.success({statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'}), 0))
  const saved = []
  wx.saveImageToPhotosAlbum = o => (saved.push(o.filePath), o.success({errMsg: 'saveImageToPhotosAlbum:ok'}))
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(await comp.instance.savePoster()).toBe('saved')
  expect(downloads[0].url).toMatch(/\/api\/v1\/referrals\/poster\/$/)
  expect(downloads[0].header.Authorization).toBe('Bearer access-1')
  expect(saved).toEqual(['wxfile://tmp/poster.png'])
  expect(comp.instance.data.notice).toBe('海报已保存到相册')
})

test('album permission refused: the member is offered the settings, nothing else happens', async () => {
  const wx = mockWx(routes())
  wx.downloadFile = o => o.success({statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'})
  wx.saveImageToPhotosAlbum = o => o.fail({errMsg: 'saveImageToPhotosAlbum:fail auth deny'})
  const settings = []
  wx.openSetting = o => settings.push(o)
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  expect(await comp.instance.savePoster()).toBe('denied')
  expect(settings.length).toBe(1)
  expect(comp.instance.data.notice).toBe('未获得相册权限，海报未保存')
})

test('a server error on the poster is said plainly', async () => {
  const wx = mockWx(routes())
  wx.downloadFile = o => o.success({statusCode: 500, tempFilePath: ''})
  wx.saveImageToPhotosAlbum = () => {
    throw new Error('must not be called')
  }
  loggedIn(wx)
  const comp = await renderPage('pkg-promoter/index/index')
  await comp.instance.savePoster()
  expect(comp.instance.data.notice).toBe('服务暂时不可用，请稍后再试') // the API client's words for any 5xx
})
