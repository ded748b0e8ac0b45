/** Pages rendered with miniprogram-simulate against a mocked wx: what the member sees. */
const {mockWx, loggedIn, apiCalls, renderPage, text} = require('./helpers')
const {ok, tiers, visitorMe, memberMe, courses, page} = require('./fixtures')
const config = require('../../app/config')
const {IOS_MESSAGE} = require('../../app/utils/pay')

beforeAll(() => {
  config.payPollMs = 1
})

/** The platform's own brand, stored by an earlier launch. */
function storedBrand(wx) {
  const {DEFAULT, KEY} = require('../../app/utils/brand')
  wx.setStorageSync(KEY, {...DEFAULT, version: 'v1'})
}

describe('home', () => {
  test('a visitor sees the tiers and an invitation to join, in at most 3 calls from a cold start', async () => {
    const wx = mockWx({
      'POST /api/v1/auth/wechat/miniprogram/': ok({access: 'a', refresh: 'r', user: {id: 1, nickname: '小明', member_no: null}}),
      'GET /api/v1/me/': ok(visitorMe),
      'GET /api/v1/membership/tiers/': ok(tiers),
    })
    storedBrand(wx) // from an earlier launch (the very first one: tests/unit/brand.test.js)
    const comp = await renderPage('pages/home/index')
    expect(text(comp)).toContain('欢迎来到知圈')
    expect(comp.querySelectorAll('.tier').map(t => text(t))).toEqual(['VIP 会员 365 天 ¥3600', 'KA 会员 365 天 ¥120000'])
    expect(text(comp)).toContain('开通会员')
    expect(apiCalls(wx).length).toBeLessThanOrEqual(3)
  })

  test('a member sees their membership, member number and courses, in at most 3 calls', async () => {
    const wx = mockWx({'GET /api/v1/me/': ok(memberMe), 'GET /api/v1/courses/': ok(courses)})
    loggedIn(wx)
    storedBrand(wx)
    const comp = await renderPage('pages/home/index')
    expect(text(comp, '.member-card')).toBe('小明 VIP 会员 会员编号 ZQ000123 有效期至 2027-01-01')
    expect(text(comp, '.course')).toContain('私域运营实战')
    expect(text(comp)).not.toContain('欢迎来到知圈')
    expect(apiCalls(wx)).toEqual(['GET /api/v1/me/', 'GET /api/v1/courses/'])
  })

  test('no network: the member is told, not shown a blank page', async () => {
    mockWx({})
    const comp = await renderPage('pages/home/index')
    expect(text(comp)).toBe('网络不可用，请检查网络后重试')
  })

  test('sharing carries the member referral code', async () => {
    const wx = mockWx({'GET /api/v1/me/': ok(memberMe), 'GET /api/v1/courses/': ok(courses)})
    loggedIn(wx)
    const comp = await renderPage('pages/home/index')
    expect(comp.instance.onShareAppMessage().path).toBe('/pages/home/index?ref=ABCD2345')
  })
})

describe('tiers and checkout', () => {
  const created = {
    order_no: 'ZQ2026120700001',
    status: 'pending',
    amount_fen: 360000,
    payment: {appId: 'wx1', timeStamp: '1765000000', nonceStr: 'n', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'sig'},
  }

  test('buying VIP: the order is created for the mini-program channel, paid with its parameters and confirmed', async () => {
    const paid = []
    const wx = mockWx(
      {
        'GET /api/v1/membership/tiers/': ok(tiers),
        'POST /api/v1/orders/': {statusCode: 201, data: created},
        'GET /api/v1/orders/ZQ2026120700001/': [ok({...created, status: 'pending'}), ok({...created, status: 'paid'})],
      },
      {payment: opts => (paid.push(opts), opts.success({errMsg: 'requestPayment:ok'}))},
    )
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    expect(comp.querySelectorAll('.tier').length).toBe(2)
    expect(text(comp, '.tier-price')).toBe('¥3600')
    const result = await comp.instance.buyTier('VIP')
    await simulate_tick()
    expect(result).toEqual({state: 'paid', order_no: 'ZQ2026120700001'})
    const order = wx.calls.find(c => c.key === 'POST /api/v1/orders/').data
    expect(order).toMatchObject({item_type: 'membership', item_id: 'VIP', channel: 'wechat_miniprogram', platform: 'android'})
    expect(paid[0]).toMatchObject({package: 'prepay_id=wx123', paySign: 'sig', signType: 'RSA', timeStamp: '1765000000'})
    expect(text(comp, '.msg')).toBe('开通成功，欢迎加入！')
  })

  test('cancelling in WeChat leaves the order pending and says so; nothing else is called', async () => {
    const wx = mockWx(
      {'GET /api/v1/membership/tiers/': ok(tiers), 'POST /api/v1/orders/': {statusCode: 201, data: created}},
      {payment: opts => opts.fail({errMsg: 'requestPayment:fail cancel'})},
    )
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    const result = await comp.instance.buyTier('VIP')
    await simulate_tick()
    expect(result.state).toBe('cancelled')
    expect(text(comp, '.msg')).toBe('已取消支付，订单保留为待支付')
    expect(apiCalls(wx).filter(c => !c.includes('opt-ins'))).toEqual(['GET /api/v1/membership/tiers/', 'POST /api/v1/orders/'])
  })

  test('iOS: only the rules text is shown — no link, no hint to pay elsewhere', async () => {
    const wx = mockWx(
      {
        'GET /api/v1/membership/tiers/': ok(tiers),
        'POST /api/v1/orders/': {
          statusCode: 400,
          data: {code: 'ios_virtual_payment_unsupported', message: '请在网页上购买', fields: {}, web_checkout_url: 'https://example.com/pay'},
        },
      },
      {platform: 'ios', payment: () => { throw new Error('must not pay') }},
    )
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    const result = await comp.instance.buyTier('VIP')
    await simulate_tick()
    expect(result.state).toBe('ios_unsupported')
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data.platform).toBe('ios')
    expect(text(comp, '.msg')).toBe(IOS_MESSAGE)
    expect(text(comp)).not.toMatch(/http|网页|example|浏览器|公众号/)
  })

  test('the tap asks for the renewal-reminder opt-in first, reports the answer, then pays', async () => {
    const asked = []
    const wx = mockWx({
      'GET /api/v1/membership/tiers/': ok(tiers),
      'GET /api/v1/notifications/opt-ins/': ok({
        opt_ins: [
          {template_key: 'renewal_reminder', template_id: 'TPL_RENEW', name: '会员到期提醒', remaining: 0},
          {template_key: 'withdrawal_result', template_id: 'TPL_CASH', name: '提现结果通知', remaining: 0},
        ],
        ignored: [],
      }),
      'POST /api/v1/notifications/opt-ins/': ok({opt_ins: [], ignored: []}),
      'POST /api/v1/orders/': {statusCode: 201, data: {...created, status: 'paid', payment: null}},
    })
    wx.requestSubscribeMessage = opts => (asked.push(opts.tmplIds), opts.success({errMsg: 'requestSubscribeMessage:ok', TPL_RENEW: 'accept'}))
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    await comp.instance.buy({currentTarget: {dataset: {code: 'VIP'}}})
    expect(asked).toEqual([['TPL_RENEW']])
    const keys = apiCalls(wx)
    expect(keys.indexOf('POST /api/v1/notifications/opt-ins/')).toBeLessThan(keys.indexOf('POST /api/v1/orders/'))
    expect(wx.calls.find(c => c.key === 'POST /api/v1/notifications/opt-ins/').data).toEqual({results: {TPL_RENEW: 'accept'}})
  })
})

describe('我的', () => {
  test('membership, member number, points and orders', async () => {
    const wx = mockWx({
      'GET /api/v1/me/': ok(memberMe),
      'GET /api/v1/orders/': ok(
        page([
          {order_no: 'ZQ1', status: 'paid', title: 'VIP 会员', item_type: 'membership', item_id: 'VIP', amount_fen: 360000, refunded_fen: 0, channel: 'wechat_miniprogram', created_at: '2026-12-07T10:00:00+08:00', paid_at: '2026-12-07T10:01:00+08:00'},
        ]),
      ),
    })
    loggedIn(wx)
    const comp = await renderPage('pages/me/index')
    expect(text(comp, '#profile')).toBe('小明 会员编号 ZQ000123 VIP 会员 · 有效期至 2027-01-01')
    expect(text(comp, '.order')).toBe('VIP 会员 2026-12-07 · ¥3600 已支付')
    comp.querySelector('.order').dispatchEvent('tap')
    await simulate_tick()
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-orders/detail/index?no=ZQ1')
  })
})

describe('order detail and refund', () => {
  const order = {order_no: 'ZQ1', status: 'paid', amount_fen: 360000, paid_at: '2026-12-07T10:01:00+08:00', item_type: 'membership', item_id: 'VIP'}

  test('a refundable order shows the preview; confirming asks the server and shows 退款中', async () => {
    const wx = mockWx({
      'GET /api/v1/orders/ZQ1/': [ok(order), ok({...order, status: 'refunding'})],
      'GET /api/v1/orders/ZQ1/refund/': ok({refundable: true, amount_fen: 360000, code: '', message: '', losses: ['VIP 会员资格']}),
      'POST /api/v1/orders/ZQ1/refund/': {statusCode: 202, data: {status: 'refunding'}},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-orders/detail/index', {no: 'ZQ1'})
    expect(text(comp, '#refund-preview')).toBe('可自助退款 ¥3600 退款后失去：VIP 会员资格')
    await comp.instance.refund()
    await simulate_tick()
    expect(text(comp, '#status')).toBe('退款中')
    expect(text(comp, '#notice')).toBe('退款申请已提交，款项将原路退回')
    expect(comp.querySelector('#refund-button')).toBeFalsy()
  })

  test('outside the window the reason is shown and there is no refund button', async () => {
    const wx = mockWx({
      'GET /api/v1/orders/ZQ1/': ok(order),
      'GET /api/v1/orders/ZQ1/refund/': ok({refundable: false, amount_fen: 0, code: 'refund_window_closed', message: '已超过可自助退款的期限', losses: []}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-orders/detail/index', {no: 'ZQ1'})
    expect(text(comp, '#refund-refused')).toBe('已超过可自助退款的期限')
    expect(comp.querySelector('#refund-button')).toBeFalsy()
  })
  test('an unpaid order can be cancelled after confirming; declining calls nothing', async () => {
    const pending = {...order, order_no: 'ZQ2', status: 'pending', paid_at: null}
    const wx = mockWx({
      'GET /api/v1/orders/ZQ2/': [ok(pending), ok({...pending, status: 'closed'})],
      'POST /api/v1/orders/ZQ2/close/': ok({...pending, status: 'closed'}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-orders/detail/index', {no: 'ZQ2'})
    expect(text(comp, '#close-button')).toBe('取消订单')
    wx.showModal = opts => opts.success({confirm: false, cancel: true})
    expect(await comp.instance.cancelOrder()).toBe(null)
    expect(apiCalls(wx)).toEqual(['GET /api/v1/orders/ZQ2/'])
    wx.showModal = opts => opts.success({confirm: true, cancel: false})
    await comp.instance.cancelOrder()
    expect(text(comp, '#status')).toBe('已关闭')
    expect(text(comp, '#notice')).toBe('订单已取消')
    expect(comp.querySelector('#close-button')).toBeFalsy()
  })

  test('an order WeChat had already taken payment for is not cancelled', async () => {
    const pending = {...order, order_no: 'ZQ3', status: 'pending', paid_at: null}
    const wx = mockWx({
      'GET /api/v1/orders/ZQ3/': [ok(pending), ok({...order, order_no: 'ZQ3'})],
      'GET /api/v1/orders/ZQ3/refund/': ok({refundable: true, amount_fen: 360000, code: '', message: '', losses: []}),
      'POST /api/v1/orders/ZQ3/close/': ok({...pending, status: 'paid'}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-orders/detail/index', {no: 'ZQ3'})
    await comp.instance.cancelOrder()
    expect(text(comp, '#notice')).toBe('该订单已支付成功，无法取消')
  })
})

describe('lessons', () => {
  const lesson = {id: 11, course_id: 7, title: '第一课', kind: 'video', body: '', media_url: 'https://media.example/1.mp4', duration_seconds: 600, is_preview: false, via: 'tier', position_seconds: 30, completed: false, previous_id: null, next_id: 12}

  test('a locked lesson says how to unlock it', async () => {
    const wx = mockWx({'GET /api/v1/lessons/11/': {statusCode: 403, data: {code: 'not_entitled', message: '无权访问'}}})
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(text(comp, '#locked')).toBe('本课时需要开通会员或购买课程后学习')
  })

  test('a lesson the drip has not reached says when it opens and sells nothing', async () => {
    const wx = mockWx({
      'GET /api/v1/lessons/11/': {statusCode: 403, data: {code: 'lesson_not_released', message: '本课时将于12月10日 解锁', unlocks_at: '2026-12-10T00:00:00+08:00'}},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(text(comp, '#locked')).toBe('本课时将于12月10日 解锁')
    expect(text(comp, '#unlocks-at')).toBe('解锁时间 2026-12-10 00:00')
    expect(text(comp)).not.toContain('开通会员')
  })

  test('the course page shows when each dripped lesson unlocks', async () => {
    const course = {
      id: 7, title: '私域运营实战', summary: '', price_fen: 19900, included_in_tiers: ['VIP'], completion_percent: 0,
      access: {unlocked: true, via: 'purchase', reason: '', message: ''},
      lessons: [
        {id: 11, title: '第一课', locked: false, is_preview: true, completed: false, unlocks_at: null, unlock_text: ''},
        {id: 12, title: '第二课', locked: true, is_preview: false, completed: false, unlocks_at: '2026-12-10T00:00:00+08:00', unlock_text: '12月10日 解锁'},
      ],
    }
    const wx = mockWx({'GET /api/v1/courses/7/': ok(course)})
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/detail/index', {id: '7'})
    const rows = comp.querySelectorAll('.lesson').map(row => text(row))
    expect(rows[1]).toContain('12月10日 解锁')
    comp.instance.open({currentTarget: {dataset: {id: 12, locked: true, unlock: '12月10日 解锁'}}})
    expect(text(comp, '#notice')).toBe('本课时将于12月10日 解锁，到时即可学习')
    expect(wx.calls.filter(c => c.key && c.key.startsWith('navigateTo'))).toEqual([])
  })

  test('playing the video sends heartbeats every 15 s and on the end; the server says when it is learned', async () => {
    const wx = mockWx({
      'GET /api/v1/lessons/11/': ok(lesson),
      'GET /api/v1/lessons/11/quiz/': {statusCode: 404, data: {code: 'no_quiz', message: '本课时没有测验'}},
      'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: {session_id: 's:1', heartbeat_seconds: 15, kind: 'video', position_seconds: 30, watched_seconds: 0, watched_percent: 0, complete_at_percent: 90, completed: false, reading_seconds_left: 0}},
      'POST /api/v1/lessons/11/heartbeat/': [
        ok({outcome: 'credited', accepted_seconds: 16, position_seconds: 46, watched_seconds: 540, watched_percent: 90, complete_at_percent: 90, completed: false}),
        ok({outcome: 'credited', accepted_seconds: 4, position_seconds: 600, watched_seconds: 544, watched_percent: 90, complete_at_percent: 90, completed: true}),
      ],
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(text(comp, '#lesson-title')).toBe('第一课')
    await comp.instance.onVideoPlay()
    for (const t of [32, 34.5, 37, 39.5, 42, 44.5, 46.2, 48, 50]) comp.instance.onVideoTime({detail: {currentTime: t}})
    await comp.instance.onVideoEnded()
    await simulate_tick()
    const beats = wx.calls.filter(c => c.key === 'POST /api/v1/lessons/11/heartbeat/').map(c => c.data)
    expect(beats).toEqual([
      {session_id: 's:1', position_seconds: 46, playback_rate: 1},
      {session_id: 's:1', position_seconds: 600, playback_rate: 1},
    ])
    expect(wx.calls.some(c => c.key === 'POST /api/v1/lessons/11/progress/')).toBe(false)
    expect(text(comp, '#completed')).toBe('已学完')
  })
})

function simulate_tick() {
  return new Promise(resolve => setTimeout(resolve, 5))
}

describe('sandbox payment (make demo)', () => {
  afterEach(() => {
    config.payChannel = 'wechat_miniprogram'
  })

  test('a modal stands in for WeChat Pay and the server sandbox pays', async () => {
    config.payChannel = 'sandbox'
    const wx = mockWx({
      'GET /api/v1/membership/tiers/': ok(tiers),
      'POST /api/v1/orders/': {statusCode: 201, data: {order_no: 'ZQ7', status: 'pending', amount_fen: 360000, payment: {cashier_url: 'http://127.0.0.1:8000/payments/sandbox/X/'}}},
      'POST /api/v1/orders/ZQ7/sandbox-pay/': ok({order_no: 'ZQ7', status: 'paid'}),
      'GET /api/v1/orders/ZQ7/': ok({order_no: 'ZQ7', status: 'paid', amount_fen: 360000, paid_at: '', item_type: 'membership', item_id: 'VIP'}),
    }, {payment: () => { throw new Error('no wx.requestPayment in the sandbox') }})
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    const result = await comp.instance.buyTier('VIP')
    expect(result).toEqual({state: 'paid', order_no: 'ZQ7'})
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data.channel).toBe('sandbox')
  })

  test('closing the modal is a cancelled payment', async () => {
    config.payChannel = 'sandbox'
    const wx = mockWx({
      'GET /api/v1/membership/tiers/': ok(tiers),
      'POST /api/v1/orders/': {statusCode: 201, data: {order_no: 'ZQ8', status: 'pending', amount_fen: 360000, payment: {cashier_url: 'http://x/'}}},
    })
    wx.showModal = opts => opts.success({confirm: false, cancel: true})
    loggedIn(wx)
    const comp = await renderPage('pages/tiers/index')
    const result = await comp.instance.buyTier('VIP')
    expect(result.state).toBe('cancelled')
    expect(apiCalls(wx)).not.toContain('POST /api/v1/orders/ZQ8/sandbox-pay/')
  })
})
