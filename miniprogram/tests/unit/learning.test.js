/**
 * The learning side: offline events and QR tickets, camp make-ups, the leaderboard, posters and
 * certificates saved to the album, 训练营与证书, and lesson progress. Answers shaped as the schema says.
 */
const {mockWx, loggedIn, apiCalls, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')
const config = require('../../app/config')

beforeAll(() => {
  config.payPollMs = 1
})

const tick = () => new Promise(resolve => setTimeout(resolve, 5))
const unauthorized = {statusCode: 401, data: {code: 'not_authenticated', message: '身份认证信息未提供。'}}

const eventRow = {
  id: 5, title: '上海线下私董会', summary: '一天的闭门课', cover_url: '', city: '上海', venue: '静安嘉里中心',
  starts_at: '2026-12-27T13:30:00+08:00', ends_at: '2026-12-27T19:30:00+08:00', capacity: 40, seats_left: 12,
  price_fen: 99900, included_in_tiers: ['VIP'],
}
const access = state => ({state, message: '', full: false, quota_limit: 1, quota_used: 0})
const detail = (state, registration = null, extra = {}) => ({
  ...eventRow, description: '13:30 签到', address: '南京西路 1515 号', access: access(state), registration,
  price: null, price_unavailable: '', ...extra,
})
const confirmed = {
  event_id: 5, status: 'confirmed', source: 'tier', ticket_code: 'K7M2P9QX4T', ticket_qr_url: '/courses/tickets/K7M2P9QX4T/qr.png',
  ticket_qr_api_url: '/api/v1/events/tickets/K7M2P9QX4T/qr.png', hold_expires_at: null, checked_in_at: null, order_no: null, checkout_url: null,
}
const ticket = (state, state_text, extra = {}) => ({
  ...confirmed, event: eventRow, state, state_text,
  ...(state === 'valid' ? {} : {ticket_code: null, ticket_qr_url: null, ticket_qr_api_url: null, status: state}),
  ...extra,
})

describe('offline events', () => {
  test('the list shows time, place, seats and the price or 会员免费', async () => {
    const wx = mockWx({'GET /api/v1/events/': ok(page([eventRow, {...eventRow, id: 6, title: '读书会', seats_left: 0, price_fen: 0, included_in_tiers: []}]))})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/events/index')
    const rows = comp.querySelectorAll('.event').map(r => text(r))
    expect(rows[0]).toBe('上海线下私董会 2026-12-27 13:30 · 上海 · 静安嘉里中心 剩余 12 席 VIP 会员免费 ¥999')
    expect(rows[1]).toBe('读书会 2026-12-27 13:30 · 上海 · 静安嘉里中心 已满，可候补 免费')
  })

  test('no network: the list says so', async () => {
    const wx = mockWx({})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/events/index')
    expect(text(comp, '#error')).toBe('网络不可用，请检查网络后重试')
  })

  test('a VIP registers free with the tier and is sent to the ticket', async () => {
    const wx = mockWx({
      'GET /api/v1/events/5/': [ok(detail('free_for_member')), ok(detail('registered', confirmed))],
      'POST /api/v1/events/5/register/': {statusCode: 201, data: confirmed},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/event/index', {id: '5'})
    expect(text(comp, '#when')).toBe('2026-12-27 13:30 – 19:30')
    expect(text(comp, '#price')).toBe('免费')
    expect(text(comp, '#tiers')).toBe('VIP 会员免费报名 （本会员年度已用 0 / 1 次免费名额）')
    expect(text(comp, '#register-button')).toBe('免费报名')
    const result = await comp.instance.register()
    expect(result).toEqual({state: 'registered'})
    expect(text(comp, '#notice')).toBe('报名成功，电子票已放入「我的 · 电子票」')
    expect(comp.querySelector('#ticket-button')).toBeTruthy()
    expect(apiCalls(wx)).not.toContain('POST /api/v1/orders/')
    comp.instance.ticket()
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-learning/ticket/index?event=5')
  })

  test('a paid ticket: the seat is held, then the usual checkout pays for it', async () => {
    const held = {...confirmed, status: 'pending', source: 'purchase', ticket_code: null, ticket_qr_url: null, ticket_qr_api_url: null}
    const quote = {list_price_fen: 99900, amount_fen: 99900, lines: [], checkout_url: ''}
    const paid = []
    const wx = mockWx(
      {
        'GET /api/v1/events/5/': [ok(detail('buy', null, {price: quote})), ok(detail('registered', {...confirmed, source: 'purchase', order_no: 'ZQ9'}))],
        'POST /api/v1/events/5/register/': {statusCode: 201, data: held},
        'POST /api/v1/orders/': {statusCode: 201, data: {order_no: 'ZQ9', status: 'pending', amount_fen: 99900, payment: {timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx9', signType: 'RSA', paySign: 's'}}},
        'GET /api/v1/orders/ZQ9/': ok({order_no: 'ZQ9', status: 'paid', amount_fen: 99900, paid_at: '', item_type: 'event', item_id: '5'}),
      },
      {payment: opts => (paid.push(opts), opts.success({errMsg: 'requestPayment:ok'}))},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/event/index', {id: '5'})
    expect(text(comp, '#buy-button')).toBe('购买门票 ¥999')
    const result = await comp.instance.register()
    expect(result).toEqual({state: 'paid', order_no: 'ZQ9'})
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data).toMatchObject({item_type: 'event', item_id: '5'})
    expect(paid[0].package).toBe('prepay_id=wx9')
    expect(text(comp, '#notice')).toBe('支付成功，电子票已放入「我的 · 电子票」')
    expect(apiCalls(wx).slice(0, 3)).toEqual(['GET /api/v1/events/5/', 'POST /api/v1/events/5/register/', 'POST /api/v1/orders/'])
  })

  test('an expired token is refreshed and the call retried once', async () => {
    const wx = mockWx({
      'GET /api/v1/events/5/': [unauthorized, ok(detail('registered', confirmed))],
      'POST /api/v1/auth/token/refresh/': ok({access: 'access-2', refresh: 'refresh-2'}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/event/index', {id: '5'})
    expect(apiCalls(wx)).toEqual(['GET /api/v1/events/5/', 'POST /api/v1/auth/token/refresh/', 'GET /api/v1/events/5/'])
    expect(wx.calls[2].header.Authorization).toBe('Bearer access-2')
    expect(text(comp, '#event-title')).toBe('上海线下私董会')
  })

  test('cancelling asks first; declining calls nothing, confirming cancels', async () => {
    const wx = mockWx({
      'GET /api/v1/events/5/': [ok(detail('registered', confirmed)), ok(detail('free_for_member', {...confirmed, status: 'cancelled', ticket_code: null}))],
      'POST /api/v1/events/5/cancel/': ok({...confirmed, status: 'cancelled', ticket_code: null, ticket_qr_api_url: null}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/event/index', {id: '5'})
    wx.showModal = opts => opts.success({confirm: false, cancel: true})
    expect(await comp.instance.cancel()).toBe(null)
    expect(apiCalls(wx)).not.toContain('POST /api/v1/events/5/cancel/')
    let asked = ''
    wx.showModal = opts => ((asked = opts.content), opts.success({confirm: true, cancel: false}))
    await comp.instance.cancel()
    expect(asked).toBe('取消后名额将释放给其他人。确定取消？')
    expect(text(comp, '#notice')).toBe('已取消报名')
    expect(text(comp, '#register-button')).toBe('免费报名')
  })

  test('a closed event shows the server message and no button', async () => {
    const wx = mockWx({'GET /api/v1/events/5/': ok(detail('closed', null, {access: {...access('closed'), message: '报名已截止'}}))})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/event/index', {id: '5'})
    expect(text(comp, '#state')).toBe('报名已截止')
    expect(comp.querySelectorAll('button').length).toBe(0)
  })
})

describe('电子票', () => {
  const tickets = [
    ticket('valid', '有效'),
    ticket('membership_ended', '会员已结束，不能入场', {event: {...eventRow, id: 7, title: '北京沙龙'}}),
    ticket('ended', '活动已结束', {event: {...eventRow, id: 8, title: '上月分享会', starts_at: '2026-11-01T13:30:00+08:00', ends_at: '2026-11-01T18:00:00+08:00'}}),
    ticket('cancelled', '已取消', {event: {...eventRow, id: 9, title: '取消的活动'}}),
    ticket('refunded', '已退款', {event: {...eventRow, id: 10, title: '退款的活动'}}),
  ]

  test('upcoming first; cancelled and refunded are labelled apart, never as valid', async () => {
    const wx = mockWx({'GET /api/v1/events/tickets/?with_cancelled=true': ok(tickets)})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/tickets/index')
    expect(text(comp, '#upcoming')).toBe(
      '上海线下私董会 2026-12-27 13:30 · 上海 · 静安嘉里中心 有效 北京沙龙 2026-12-27 13:30 · 上海 · 静安嘉里中心 会员已结束，不能入场',
    )
    expect(text(comp, '#past')).toBe('上月分享会 2026-11-01 13:30 活动已结束')
    expect(text(comp, '#voided')).toBe('取消的活动 2026-12-27 13:30 已取消 退款的活动 2026-12-27 13:30 已退款')
    // only a valid ticket wears the green tag
    const tags = comp.querySelectorAll('.tag').map(t => [text(t), t.dom.className.includes('tag-muted')])
    expect(tags).toEqual([['有效', false], ['会员已结束，不能入场', true], ['活动已结束', true], ['已取消', true], ['已退款', true]])
  })

  test('a valid ticket: the QR comes with the Bearer token and can be saved', async () => {
    const wx = mockWx({
      'GET /api/v1/events/tickets/?with_cancelled=true': ok(tickets),
      'DOWNLOAD /api/v1/events/tickets/K7M2P9QX4T/qr.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/qr.png'},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '5'})
    expect(text(comp, '#code')).toBe('K7M2P9QX4T')
    expect(text(comp, '#state')).toBe('有效')
    expect(comp.instance.data.qr).toBe('wxfile://tmp/qr.png')
    expect(comp.querySelector('#qr')).toBeTruthy()
    const download = wx.calls.find(c => c.key.startsWith('DOWNLOAD '))
    expect(download.header.Authorization).toBe('Bearer access-1')
    expect(await comp.instance.save()).toBe('saved')
    expect(text(comp, '#notice')).toBe('已保存到相册')
  })

  test('a cancelled ticket shows no QR and says it will not get the member in', async () => {
    const wx = mockWx({'GET /api/v1/events/tickets/?with_cancelled=true': ok(tickets)})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '9'})
    expect(text(comp, '#state')).toBe('已取消')
    expect(text(comp, '#not-valid')).toBe('此票不能用于入场')
    expect(comp.querySelector('#qr')).toBeFalsy()
    expect(comp.querySelector('#code')).toBeFalsy()
    expect(apiCalls(wx)).toEqual(['GET /api/v1/events/tickets/?with_cancelled=true'])
  })

  test('a ticket already used at the door says so, without a QR to reuse', async () => {
    const used = ticket('checked_in', '已签到', {event: {...eventRow, id: 11, title: '已签到的活动'}})
    const wx = mockWx({'GET /api/v1/events/tickets/?with_cancelled=true': ok([used])})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '11'})
    expect(text(comp, '#state')).toBe('已签到')
    expect(text(comp, '#not-valid')).toBe('已核销入场，欢迎参加')
    expect(comp.querySelector('#qr')).toBeFalsy()
  })

  test('the QR download refreshes an expired token and retries once', async () => {
    const wx = mockWx({
      'GET /api/v1/events/tickets/?with_cancelled=true': ok(tickets),
      'DOWNLOAD /api/v1/events/tickets/K7M2P9QX4T/qr.png': [{statusCode: 401}, {statusCode: 200, tempFilePath: 'wxfile://tmp/qr2.png'}],
      'POST /api/v1/auth/token/refresh/': ok({access: 'access-2', refresh: 'refresh-2'}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '5'})
    expect(apiCalls(wx)).toEqual([
      'GET /api/v1/events/tickets/?with_cancelled=true',
      'DOWNLOAD /api/v1/events/tickets/K7M2P9QX4T/qr.png',
      'POST /api/v1/auth/token/refresh/',
      'DOWNLOAD /api/v1/events/tickets/K7M2P9QX4T/qr.png',
    ])
    expect(wx.calls.filter(c => c.key.startsWith('DOWNLOAD ')).map(c => c.header.Authorization)).toEqual(['Bearer access-1', 'Bearer access-2'])
    expect(comp.instance.data.qr).toBe('wxfile://tmp/qr2.png')
  })

  test('no network for the QR: the code is still shown to read out at the door', async () => {
    const wx = mockWx({'GET /api/v1/events/tickets/?with_cancelled=true': ok(tickets)})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '5'})
    expect(text(comp, '#qr-error')).toBe('二维码加载失败：网络不可用，请检查网络后重试。入场时可出示票号')
    expect(text(comp, '#code')).toBe('K7M2P9QX4T')
  })

  test('a ticket that is not mine (or gone) says so', async () => {
    const wx = mockWx({'GET /api/v1/events/tickets/?with_cancelled=true': ok([])})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/ticket/index', {event: '5'})
    expect(text(comp, '#error')).toBe('没有找到这张电子票')
  })
})

describe('camps: make-up, leaderboard, poster, certificates', () => {
  const seat = {points: 30, checkin_days: 2, streak: 0, best_streak: 2, makeups_used: 0, makeups_left: 3, rank: 2, completed: false, certificate_no: null}
  const term = {
    id: 3, name: '第1期', start_date: '2026-12-04', end_date: '2026-12-24', days: 21, camp_id: 2, camp_title: '21天写作打卡营',
    access: {state: 'joined', message: '', can_view: true}, today: '2026-12-07', day: 4,
    today_task: {id: 74, day: 4, date: '2026-12-07', title: '写一段自我介绍', body: '200 字', requires_image: false},
    my_checkin_today: null, seat, price: null, price_unavailable: '',
  }
  const calendar = [
    {date: '2026-12-04', day: 1, state: 'done', task: {id: 71, day: 1, date: '2026-12-04', title: '任务一', body: '', requires_image: false}, checkin_id: 1},
    {date: '2026-12-05', day: 2, state: 'missed', task: {id: 72, day: 2, date: '2026-12-05', title: '任务二', body: '', requires_image: false}, checkin_id: null},
    {date: '2026-12-06', day: 3, state: 'makeup', task: {id: 73, day: 3, date: '2026-12-06', title: '写三个标题', body: '', requires_image: false}, checkin_id: null},
    {date: '2026-12-07', day: 4, state: 'today', task: term.today_task, checkin_id: null},
    {date: '2026-12-08', day: 5, state: 'locked', task: null, checkin_id: null},
  ]
  const checkin = {id: 9, day: '2026-12-06', task_id: 73, task_day: 3, text: '补上', images: [], status: 'visible', is_makeup: true, points_awarded: 5, created_at: '', member: {id: 1, nickname: '小明', avatar_url: ''}, review: null}

  test('a missed day inside the window can be made up; the form then checks in for that day', async () => {
    const wx = mockWx({
      'GET /api/v1/camps/terms/3/': ok(term),
      'GET /api/v1/camps/terms/3/calendar/': ok(calendar),
      'POST /api/v1/camps/terms/3/checkins/': {statusCode: 201, data: checkin},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/camp/index', {term: '3'})
    expect(comp.querySelectorAll('.makeup-day').map(r => text(r))).toEqual(['第 3 天 · 写三个标题 2026-12-06 补卡'])
    expect(text(comp, '#score')).toBe('30 积分 · 第 2 名')
    comp.instance.chooseMakeup({currentTarget: {dataset: {id: 73}}})
    expect(text(comp, '#makeup-task')).toBe('补卡 · 第 3 天：写三个标题')
    comp.instance.onInput({detail: {value: '补上'}})
    await comp.instance.checkIn()
    expect(wx.calls.find(c => c.key === 'POST /api/v1/camps/terms/3/checkins/').data).toEqual({task_id: 73, text: '补上'})
    expect(comp.instance.data.notice).toBe('补卡成功（第 3 天），获得 5 积分')
    expect(comp.instance.data.makeup).toBe(null)
  })

  test("checking in asks for tomorrow's reminder first, and the answer is recorded", async () => {
    const asked = []
    const wx = mockWx({
      'GET /api/v1/notifications/opt-ins/': ok({opt_ins: [{template_key: 'checkin_reminder', template_id: 'TPL_checkin', name: '打卡提醒', remaining: 0}]}),
      'POST /api/v1/notifications/opt-ins/': ok({opt_ins: []}),
      'GET /api/v1/camps/terms/3/': ok(term),
      'GET /api/v1/camps/terms/3/calendar/': ok(calendar),
      'POST /api/v1/camps/terms/3/checkins/': {statusCode: 201, data: {...checkin, is_makeup: false, task_id: 74}},
    })
    wx.requestSubscribeMessage = opts => (asked.push(opts.tmplIds), opts.success({errMsg: 'requestSubscribeMessage:ok', TPL_checkin: 'accept'}))
    loggedIn(wx)
    const comp = await renderPage('pkg-community/camp/index', {term: '3'})
    await tick()
    comp.instance.onInput({detail: {value: '今天写完了'}})
    await comp.instance.checkIn()
    expect(asked).toEqual([['TPL_checkin']])
    const sent = apiCalls(wx).filter(call => call.startsWith('POST '))
    expect(sent).toEqual(['POST /api/v1/notifications/opt-ins/', 'POST /api/v1/camps/terms/3/checkins/'])
    expect(wx.calls.find(c => c.key === 'POST /api/v1/notifications/opt-ins/').data).toEqual({results: {TPL_checkin: 'accept'}})
  })

  test('a refused make-up shows the server reason', async () => {
    const wx = mockWx({
      'GET /api/v1/camps/terms/3/': ok(term),
      'GET /api/v1/camps/terms/3/calendar/': ok(calendar),
      'POST /api/v1/camps/terms/3/checkins/': {statusCode: 409, data: {code: 'makeup_limit_reached', message: '本期补卡次数已用完（最多 3 次）'}},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/camp/index', {term: '3'})
    comp.instance.chooseMakeup({currentTarget: {dataset: {id: 73}}})
    comp.instance.onInput({detail: {value: '补上'}})
    expect(await comp.instance.checkIn()).toBe(null)
    expect(comp.instance.data.notice).toBe('本期补卡次数已用完（最多 3 次）')
  })

  test('the camp page links to the leaderboard and the poster', async () => {
    const wx = mockWx({'GET /api/v1/camps/terms/3/': ok(term), 'GET /api/v1/camps/terms/3/calendar/': ok(calendar)})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/camp/index', {term: '3'})
    comp.instance.leaderboard()
    comp.instance.poster()
    const navigations = wx.calls.filter(c => c.key.startsWith('navigateTo')).map(c => c.key)
    expect(navigations).toEqual(['navigateTo /pkg-learning/leaderboard/index?term=3', 'navigateTo /pkg-learning/poster/index?kind=poster&term=3'])
    expect(comp.querySelector('#certificate-link')).toBeFalsy()
  })

  test('the leaderboard ranks members and marks me', async () => {
    const board = {
      results: [
        {rank: 1, member: {id: 8, nickname: '小林', avatar_url: ''}, points: 45, checkin_days: 3, streak: 3, best_streak: 3, completed: false},
        {rank: 2, member: {id: 1, nickname: '小明', avatar_url: ''}, points: 30, checkin_days: 2, streak: 0, best_streak: 2, completed: false},
      ],
      me: seat,
    }
    const wx = mockWx({'GET /api/v1/camps/terms/3/leaderboard/': ok(board)})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/leaderboard/index', {term: '3'})
    expect(text(comp, '#me')).toBe('我的排名 第 2 名 30 积分 · 已打卡 2 天 · 连续 0 天')
    expect(comp.querySelectorAll('.rank-row').map(r => text(r))).toEqual([
      '1 小林 已打卡 3 天 · 连续 3 天 45 分',
      '2 小明 我 已打卡 2 天 · 连续 0 天 30 分',
    ])
  })

  test('the leaderboard of a term I am not in says how to see it', async () => {
    const wx = mockWx({'GET /api/v1/camps/terms/3/leaderboard/': {statusCode: 403, data: {code: 'not_entitled', message: '无权访问'}}})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/leaderboard/index', {term: '3'})
    expect(text(comp, '#error')).toBe('加入训练营后可查看排行榜')
  })

  test('the poster is downloaded with the token and saved to the album', async () => {
    const wx = mockWx({'DOWNLOAD /api/v1/camps/terms/3/poster.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'}})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'poster'})
    expect(comp.instance.data.image).toBe('wxfile://tmp/poster.png')
    expect(await comp.instance.save()).toBe('saved')
    expect(wx.calls.map(c => c.key)).toContain('saveImageToPhotosAlbum wxfile://tmp/poster.png')
    expect(text(comp, '#notice')).toBe('已保存到相册')
  })

  test('album permission refused: the member is told and offered 设置; still refused → not saved', async () => {
    let modal = null
    const wx = mockWx(
      {'DOWNLOAD /api/v1/camps/terms/3/poster.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'}},
      {saveImage: o => o.fail({errMsg: 'saveImageToPhotosAlbum:fail auth deny'})},
    )
    wx.showModal = opts => ((modal = opts), opts.success({confirm: true, cancel: false}))
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'poster'})
    expect(await comp.instance.save()).toBe('denied')
    expect(modal).toMatchObject({title: '需要相册权限', confirmText: '去设置'})
    expect(wx.calls.map(c => c.key)).toContain('openSetting')
    expect(text(comp, '#notice')).toBe('未获得相册权限，图片没有保存')
  })

  test('album permission turned on in 设置: saved on the second try', async () => {
    const attempts = []
    const wx = mockWx(
      {'DOWNLOAD /api/v1/camps/terms/3/poster.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'}},
      {
        saveImage: o => (attempts.push(o.filePath), attempts.length === 1 ? o.fail({errMsg: 'saveImageToPhotosAlbum:fail authorize no response'}) : o.success({})),
        openSetting: o => o.success({authSetting: {'scope.writePhotosAlbum': true}}),
      },
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'poster'})
    expect(await comp.instance.save()).toBe('saved')
    expect(attempts.length).toBe(2)
  })

  test('the member closing the save sheet is not an error', async () => {
    const wx = mockWx(
      {'DOWNLOAD /api/v1/camps/terms/3/poster.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/poster.png'}},
      {saveImage: o => o.fail({errMsg: 'saveImageToPhotosAlbum:fail cancel'})},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'poster'})
    expect(await comp.instance.save()).toBe('cancelled')
    expect(wx.calls.map(c => c.key)).not.toContain('openSetting')
  })

  test('the certificate: its number and date, then the image behind the token', async () => {
    const wx = mockWx({
      'GET /api/v1/camps/terms/3/certificate/': ok({certificate_no: 'ZQC-2026-0001', completed_at: '2026-12-24T21:00:00+08:00', image_url: '/courses/camps/terms/3/certificate.png', image_api_url: '/api/v1/camps/terms/3/certificate.png'}),
      'DOWNLOAD /api/v1/camps/terms/3/certificate.png': {statusCode: 200, tempFilePath: 'wxfile://tmp/cert.png'},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'certificate'})
    expect(text(comp, '#certificate')).toBe('证书编号 ZQC-2026-0001 结营日期 2026-12-24')
    expect(comp.instance.data.image).toBe('wxfile://tmp/cert.png')
  })

  test('no certificate before completing the term', async () => {
    const wx = mockWx({'GET /api/v1/camps/terms/3/certificate/': {statusCode: 404, data: {code: 'not_completed', message: '完成结营要求后才能获得证书'}}})
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/poster/index', {term: '3', kind: 'certificate'})
    expect(text(comp, '#error')).toBe('完成结营要求后才能获得证书')
    expect(apiCalls(wx)).toEqual(['GET /api/v1/camps/terms/3/certificate/'])
  })

  test('训练营与证书: running terms first, and the certificates I hold', async () => {
    const row = (id, camp_title, start_date, end_date, extra = {}) => ({id, name: '第1期', start_date, end_date, days: 21, camp_id: id, camp_title, seat: {...seat, rank: null, ...extra}})
    const wx = mockWx({
      'GET /api/v1/camps/mine/': ok([
        row(1, '读书营', '2020-01-01', '2020-01-21', {completed: true, certificate_no: 'ZQC-1', checkin_days: 21}),
        row(2, '写作营', '2020-01-01', '2999-01-01'),
        row(3, '早起营', '2999-01-01', '2999-01-21'),
      ]),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-learning/mycamps/index')
    expect(comp.querySelectorAll('.term').map(r => text(r).split(' ')[0])).toEqual(['写作营', '早起营', '读书营'])
    expect(text(comp.querySelectorAll('.term')[2])).toContain('已结营')
    expect(text(comp, '#certificates')).toBe('读书营 · 第1期 证书编号 ZQC-1 查看')
    comp.instance.certificate({currentTarget: {dataset: {id: 1}}})
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-learning/poster/index?kind=certificate&term=1')
  })
})

describe('lesson progress the server vouches for, and the quiz', () => {
  const lesson = {id: 11, course_id: 7, title: '第一课', kind: 'audio', body: '', media_url: 'https://media.example/1.mp3', duration_seconds: 600, is_preview: false, via: 'tier', position_seconds: 75, completed: false, previous_id: null, next_id: null}
  const started = {session_id: 'abc:sig', heartbeat_seconds: 15, kind: 'audio', position_seconds: 75, watched_seconds: 0, watched_percent: 0, complete_at_percent: 90, completed: false, reading_seconds_left: 0}
  const beat = (extra = {}) => ok({outcome: 'credited', accepted_seconds: 15, position_seconds: 90, watched_seconds: 15, watched_percent: 2, complete_at_percent: 90, completed: false, ...extra})
  const noQuiz = {statusCode: 404, data: {code: 'no_quiz', message: '本课时没有测验'}}

  function fakeAudio() {
    const handlers = {}
    const audio = {currentTime: 0, startTime: 0, src: '', played: 0, destroyed: false, paused: 0}
    for (const name of ['onTimeUpdate', 'onPlay', 'onPause', 'onStop', 'onEnded']) audio[name] = fn => (handlers[name] = fn)
    audio.play = () => (audio.played++, handlers.onPlay && handlers.onPlay())
    audio.pause = () => (audio.paused++, handlers.onPause && handlers.onPause())
    audio.destroy = () => (audio.destroyed = true)
    audio.fire = (name, time) => {
      if (time !== undefined) audio.currentTime = time
      handlers[name]()
    }
    return audio
  }
  const settle = async () => {
    for (let i = 0; i < 30; i++) await tick() // heartbeats go one after another
  }
  const beats = wx => wx.calls.filter(c => c.key === 'POST /api/v1/lessons/11/heartbeat/').map(c => c.data.position_seconds)

  test('playing opens a session; heartbeats go every 15 s of playback, around a seek, on pause and end', async () => {
    const audio = fakeAudio()
    const wx = mockWx(
      {'GET /api/v1/lessons/11/': ok(lesson), 'GET /api/v1/lessons/11/quiz/': noQuiz, 'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: started}, 'POST /api/v1/lessons/11/heartbeat/': beat()},
      {audio},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(audio.startTime).toBe(75)
    expect(text(comp, '#resume')).toBe('从上次的 01:15 继续')
    comp.instance.playAudio()
    await settle()
    expect(wx.calls.find(c => c.key === 'POST /api/v1/lessons/11/playback/').data).toEqual({position_seconds: 75})
    for (const t of [76, 78.5, 81, 83.5, 86, 88.5, 90.4]) audio.fire('onTimeUpdate', t) // 15 s of playback
    audio.fire('onTimeUpdate', 91)
    audio.fire('onTimeUpdate', 30) // sought back: where it was, then where it is
    audio.fire('onPause')
    audio.fire('onEnded')
    await settle()
    expect(beats(wx)).toEqual([90, 91, 30, 30, 600])
    const sent = wx.calls.find(c => c.key === 'POST /api/v1/lessons/11/heartbeat/').data
    expect(sent).toEqual({session_id: 'abc:sig', position_seconds: 90, playback_rate: 1})
    expect(text(comp, '#watched')).toBe('已真实观看 2%')
  })

  test('another device took the lesson: this one says so and stops reporting until played again', async () => {
    const audio = fakeAudio()
    const wx = mockWx(
      {
        'GET /api/v1/lessons/11/': ok(lesson),
        'GET /api/v1/lessons/11/quiz/': noQuiz,
        'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: started},
        'POST /api/v1/lessons/11/heartbeat/': [{statusCode: 409, data: {code: 'playback_superseded', message: '该课时正在另一台设备上播放'}}, beat({completed: true})],
      },
      {audio},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    comp.instance.playAudio()
    await settle()
    for (const t of [78, 81, 84, 87, 90]) audio.fire('onTimeUpdate', t)
    await settle()
    expect(comp.querySelector('#superseded')).toBeTruthy()
    expect(audio.paused).toBe(1)
    for (const t of [93, 96, 99, 102, 105]) audio.fire('onTimeUpdate', t)
    await settle()
    expect(beats(wx)).toEqual([90]) // the paused player's report and later ones are not sent
    comp.instance.playAudio() // pressing play here takes the lesson back: a new session
    await settle()
    expect(wx.calls.filter(c => c.key === 'POST /api/v1/lessons/11/playback/')).toHaveLength(2)
    expect(comp.querySelector('#superseded')).toBeFalsy()
    for (const t of [108, 111, 114, 117, 120]) audio.fire('onTimeUpdate', t)
    await settle()
    expect(text(comp, '#completed')).toBe('已学完')
  })

  test('leaving without playing reports nothing; leaving after playing reports the position once', async () => {
    const audio = fakeAudio()
    const wx = mockWx(
      {'GET /api/v1/lessons/11/': ok(lesson), 'GET /api/v1/lessons/11/quiz/': noQuiz, 'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: started}, 'POST /api/v1/lessons/11/heartbeat/': beat()},
      {audio},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    await comp.instance.onHide()
    expect(apiCalls(wx)).toEqual(['GET /api/v1/lessons/11/', 'GET /api/v1/lessons/11/quiz/'])
    comp.instance.playAudio()
    await settle()
    audio.fire('onTimeUpdate', 76)
    audio.fire('onTimeUpdate', 78)
    await comp.instance.onUnload()
    await settle()
    expect(beats(wx)).toEqual([78])
    expect(audio.destroyed).toBe(true)
  })

  test('a text lesson opens its reading clock; 我读完了 is accepted when the server says so', async () => {
    const textLesson = {...lesson, kind: 'text', media_url: '', body: '正文', duration_seconds: 0, position_seconds: 0}
    const wx = mockWx({
      'GET /api/v1/lessons/11/': ok(textLesson),
      'GET /api/v1/lessons/11/quiz/': noQuiz,
      'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: {...started, kind: 'text', reading_seconds_left: 20}},
      'POST /api/v1/lessons/11/progress/': [
        {statusCode: 409, data: {code: 'reading_too_short', message: '再读 12 秒就可以标记学完了'}},
        ok({lesson_id: 11, position_seconds: 0, completed: true, course_completion_percent: 25}),
      ],
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(wx.calls.find(c => c.key === 'POST /api/v1/lessons/11/playback/').data).toEqual({})
    await comp.instance.finishReading()
    expect(text(comp, '#reading')).toBe('再读 12 秒就可以标记学完了')
    expect(comp.querySelector('#completed')).toBeFalsy()
    await comp.instance.finishReading()
    expect(text(comp, '#completed')).toBe('已学完')
    expect(wx.calls.filter(c => c.key === 'POST /api/v1/lessons/11/progress/').map(c => c.data)).toEqual([
      {position_seconds: 0, completed: true},
      {position_seconds: 0, completed: true},
    ])
  })

  test('the quiz: choose answers (one for single, several for multiple), submit, see the score', async () => {
    const quiz = {
      id: 3, lesson_id: 11, title: '复购小测验', pass_percent: 60, max_attempts: 3, attempts_used: 0, attempts_left: 3, passed: false, best_percent: null, can_attempt: true, last_attempt: null,
      questions: [
        {id: 21, text: '续费率取决于什么？', kind: 'single', options: [{id: 1, text: '价值'}, {id: 2, text: '价格'}]},
        {id: 22, text: '哪些是抓手？', kind: 'multiple', options: [{id: 3, text: '提醒'}, {id: 4, text: '权益'}, {id: 5, text: '广告'}]},
      ],
    }
    const wx = mockWx(
      {
        'GET /api/v1/lessons/11/': ok(lesson),
        'GET /api/v1/lessons/11/quiz/': [ok(quiz), ok({...quiz, attempts_used: 1, attempts_left: 2, passed: true, can_attempt: false, best_percent: 100})],
        'POST /api/v1/lessons/11/quiz/attempts/': {statusCode: 201, data: {number: 1, score_percent: 100, correct_count: 2, question_count: 2, passed: true, created_at: '2026-03-02T20:00:00+08:00', attempts_left: 2, results: []}},
      },
      {audio: fakeAudio()},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(text(comp, '#quiz-rule')).toBe('及格线 60% · 还可作答 3 次')
    expect(comp.querySelectorAll('.q-text').map(q => text(q))).toEqual(['1. 续费率取决于什么？（单选）', '2. 哪些是抓手？（多选）'])
    await comp.instance.submitQuiz()
    expect(text(comp, '#quiz-error')).toBe('请回答全部题目后再提交')
    const tap = (question, option) => comp.instance.chooseOption({currentTarget: {dataset: {question, option}}})
    tap(21, 2)
    tap(21, 1) // single choice: the second tap replaces the first
    tap(22, 3)
    tap(22, 4)
    tap(22, 5)
    tap(22, 5) // multiple choice: a second tap takes it back
    await comp.instance.submitQuiz()
    expect(wx.calls.find(c => c.key === 'POST /api/v1/lessons/11/quiz/attempts/').data).toEqual({
      answers: [{question_id: 21, option_ids: [1]}, {question_id: 22, option_ids: [3, 4]}],
    })
    expect(text(comp, '#quiz-result')).toBe('得分 100%，已通过')
    expect(comp.querySelector('#quiz-submit')).toBeFalsy()
  })
})

describe('protected media', () => {
  const playback = {
    url: 'https://zhiquan.example/courses/media/42.11.7.1765000000.u:sig/master.m3u8',
    expires_at: '2026-12-08T10:15:00+08:00',
    watermark: {text: 'VIP00042 小明同学爱学', member_no: 'VIP00042', nickname: '小明同学爱学'},
  }
  const lesson = {id: 11, course_id: 7, title: '加密视频课', kind: 'video', body: '', media_url: '', duration_seconds: 600, is_preview: false, via: 'tier', position_seconds: 0, completed: false, previous_id: null, next_id: null, playback}

  test('the video plays the signed playlist under a watermark that drifts until the page closes', async () => {
    jest.useFakeTimers({doNotFake: ['setTimeout']})
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.5)
    try {
      const wx = mockWx({'GET /api/v1/lessons/11/': ok(lesson)})
      loggedIn(wx)
      const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
      expect(comp.instance.data.mediaUrl).toBe(playback.url)
      expect(comp.querySelector('#player')).toBeTruthy()
      expect(text(comp, '#watermark')).toBe('VIP00042 小明同学爱学')
      expect([comp.instance.data.markTop, comp.instance.data.markLeft]).toEqual([42, 32])
      random.mockReturnValue(0)
      jest.advanceTimersByTime(4000)
      expect([comp.instance.data.markTop, comp.instance.data.markLeft]).toEqual([6, 4])
      random.mockReturnValue(1)
      jest.advanceTimersByTime(4000)
      expect([comp.instance.data.markTop, comp.instance.data.markLeft]).toEqual([78, 60])
      await comp.instance.onUnload()
      random.mockReturnValue(0.5)
      jest.advanceTimersByTime(8000)
      expect([comp.instance.data.markTop, comp.instance.data.markLeft]).toEqual([78, 60]) // stopped
    } finally {
      random.mockRestore()
      jest.useRealTimers()
    }
  })

  test('protected audio plays in the video player too, not the audio context', async () => {
    const audio = {onTimeUpdate() {}, onPlay() {}, onPause() {}, onStop() {}, onEnded() {}, play() {}, pause() {}, destroy() {}, created: true}
    const wx = mockWx({'GET /api/v1/lessons/11/': ok({...lesson, kind: 'audio'})}, {audio})
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(comp.querySelector('#player')).toBeTruthy()
    expect(comp.querySelector('#audio')).toBeFalsy()
    expect(text(comp, '#watermark')).toBe('VIP00042 小明同学爱学')
    expect(audio.src).toBeUndefined() // the audio context was never given the playlist
    await comp.instance.onUnload()
  })

  test('the protected player sends the heartbeats: audio through the video player under the watermark', async () => {
    const wx = mockWx({
      'GET /api/v1/lessons/11/': ok({...lesson, kind: 'audio'}),
      'POST /api/v1/lessons/11/playback/': {statusCode: 201, data: {session_id: 's:9', heartbeat_seconds: 15, kind: 'audio', position_seconds: 0, watched_seconds: 0, watched_percent: 0, complete_at_percent: 90, completed: false, reading_seconds_left: 0}},
      'POST /api/v1/lessons/11/heartbeat/': ok({outcome: 'credited', accepted_seconds: 15, position_seconds: 15, watched_seconds: 15, watched_percent: 3, complete_at_percent: 90, completed: false}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(text(comp, '#watermark')).toBe('VIP00042 小明同学爱学')
    await comp.instance.onVideoPlay()
    for (const t of [2.5, 5, 7.5, 10, 12.5, 15]) comp.instance.onVideoTime({detail: {currentTime: t}})
    await comp.instance.onVideoPause()
    const beats = wx.calls.filter(c => c.key === 'POST /api/v1/lessons/11/heartbeat/').map(c => c.data)
    expect(beats[0]).toEqual({session_id: 's:9', position_seconds: 15, playback_rate: 1})
    expect(wx.calls.some(c => c.key === 'POST /api/v1/lessons/11/progress/')).toBe(false)
    await comp.instance.onUnload()
  })

  test('a lesson without protected media keeps its media_url and shows no watermark', async () => {
    const wx = mockWx({'GET /api/v1/lessons/11/': ok({...lesson, media_url: 'https://media.example/1.mp4', playback: null})})
    loggedIn(wx)
    const comp = await renderPage('pkg-courses/lesson/index', {id: '11'})
    expect(comp.instance.data.mediaUrl).toBe('https://media.example/1.mp4')
    expect(comp.querySelector('#watermark')).toBeFalsy()
    await comp.instance.onUnload()
  })
})
