/** 推广中心: code, earnings, and the 商家转账 confirm-receipt step with wx.requestMerchantTransfer. */
const {mockWx, loggedIn, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')

const mine = {code: 'ABCD2345', share_url: 'http://127.0.0.1:8000/r/ABCD2345/', invited_count: 3, earnings: {pending_fen: 9900, available_fen: 36000, withdrawn_fen: 0}}
const wallet = {pending_fen: 9900, available_fen: 36000, withdrawing_fen: 0, withdrawn_fen: 0, owed_fen: 0, min_amount_fen: 100, max_amount_fen: 2000000, daily_count_limit: 3, withdrawals_left_today: 3, real_name_required_from_fen: 200000, methods: ['wechat'], can_withdraw: true}
const waiting = {id: 5, amount_fen: 5000, method: 'wechat', method_display: '微信零钱', status: 'paying', status_display: '待确认收款', out_bill_no: 'B1', needs_confirmation: true, confirm_deadline: '2026-12-08T10:00:00+08:00', reject_reason: '', fail_reason: '', created_at: '2026-12-07T10:00:00+08:00', paid_at: null, finished_at: null}

function routes(extra = {}) {
  return {
    'GET /api/v1/referrals/me/': ok(mine),
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
