/**
 * Journeys of a new member, driven through the real pages against the live server (see harness.js).
 * They run in order and share the server's state, like one person using the app.
 */
const {state, openPage, launch, asNewPhone, requestsSince, pickPhotoNext, asOperator} = require('./harness')
const api = require('../../app/utils/api')

jest.setTimeout(60000)

const shared = {promoterCode: '', vipOrderNo: '', cancelledOrderNo: '', vipLessonId: 0, vipCourseId: 0, circleId: 0, ownPostId: 0}

function expectNoError(page, where) {
  if (page.data.error) throw new Error(`${where}: the page shows an error: ${page.data.error}`)
}

test('a promoter logs in and finds their referral code in 我的', async () => {
  asNewPhone('promoter')
  launch({})
  const me = await openPage('pages/me/index')
  expectNoError(me, '我的')
  expect(me.data.referralCode).toMatch(/^[A-Z0-9]{4,16}$/)
  shared.promoterCode = me.data.referralCode
})

test('the promoter accepts the promoter agreement in the promoter centre', async () => {
  const centre = await openPage('pkg-promoter/index/index')
  expectNoError(centre, '推广中心')
  expect(centre.data.code).toBe(shared.promoterCode)
  if (!centre.data.agreementVersion) throw new Error('the demo publishes a promoter agreement, the centre shows none')
  expect(centre.data.agreed).toBe(false)
  const accepted = await centre.acceptAgreement()
  if (!accepted) throw new Error(`accepting the agreement failed: ${centre.data.notice}`)
  const again = await openPage('pkg-promoter/index/index')
  expect(again.data.agreed).toBe(true)
  const agreement = await api.get('/api/v1/referrals/agreement/')
  expect(agreement).toMatchObject({accepted: true, version: centre.data.agreementVersion})
})

test('a new member opens a 小程序码 with the referral code and sees the visitor home in ≤ 3 calls', async () => {
  asNewPhone('newbie')
  launch({scene: encodeURIComponent(`r=${shared.promoterCode}`)})
  const home = await openPage('pages/home/index')
  expectNoError(home, 'home')
  // The very first launch too: the login answer carries the creator's brand (X-Brand), no call of its own.
  const calls = requestsSince(0)
  expect(calls).not.toContain('GET /api/v1/brand/')
  expect(calls.length).toBeLessThanOrEqual(3)
  expect(state.storage.get('zq_brand')).toMatchObject({site_name: expect.any(String), version: expect.any(String)})
  expect(calls[0]).toBe('POST /api/v1/auth/wechat/miniprogram/')
  expect(home.data.member).toBe(false)
  expect(home.data.tiers.map(t => t.code)).toEqual(expect.arrayContaining(['VIP', 'KA']))
  expect(home.data.tiers.find(t => t.code === 'VIP').price).toBe('¥3600')
})

test("the creator's brand from the server names the home, its title and its shares; the next launch costs no call for it", async () => {
  await new Promise(resolve => setTimeout(resolve, 300)) // the brand answer of the first launch lands
  const server = await api.request('/api/v1/brand/', {auth: false})
  expect(state.storage.get('zq_brand')).toMatchObject({site_name: server.site_name, version: server.version})
  const from = state.log.length
  launch({})
  const home = await openPage('pages/home/index')
  expectNoError(home, 'home (second launch)')
  expect(requestsSince(from).length).toBeLessThanOrEqual(3)
  expect(requestsSince(from)).not.toContain('GET /api/v1/brand/')
  expect(home.data.siteName).toBe(server.site_name)
  expect(home.onShareAppMessage().title).toBe(server.share_title)
  expect(state.ui).toContainEqual({title: server.site_name})
  expect(state.ui).toContainEqual({backgroundColor: server.primary_color})
})

test('a VIP lesson is locked for the visitor', async () => {
  const list = await openPage('pkg-courses/list/index')
  expectNoError(list, 'courses')
  for (const course of list.data.courses.filter(c => c.tiers.split('/').includes('VIP'))) {
    const detail = await openPage('pkg-courses/detail/index', {id: String(course.id)})
    expectNoError(detail, 'course detail')
    const lesson = detail.data.lessons.find(l => !l.preview)
    if (lesson) {
      expect(lesson.locked).toBe(true)
      shared.vipCourseId = course.id
      shared.vipLessonId = lesson.id
      break
    }
  }
  expect(shared.vipLessonId).toBeGreaterThan(0)
  const page = await openPage('pkg-courses/lesson/index', {id: String(shared.vipLessonId)})
  expect(page.data.locked).toBe(true)
  expect(page.data.error).toBe('本课时需要开通会员或购买课程后学习')
})

test('cancelling the payment leaves the order pending', async () => {
  const tiers = await openPage('pages/tiers/index')
  state.nextPayment = 'cancel'
  const result = await tiers.buyTier('VIP')
  expect(result.state).toBe('cancelled')
  expect(tiers.data.notice).toBe('已取消支付，订单保留为待支付')
  const order = await openPage('pkg-orders/detail/index', {no: result.order_no})
  expect(order.data.status).toBe('pending')
  expect(order.data.statusText).toBe('待支付')
  shared.cancelledOrderNo = result.order_no
})

test('buying VIP: wx.requestPayment with the server parameters, the payment notification, a member', async () => {
  const tiers = await openPage('pages/tiers/index')
  const result = await tiers.buy({currentTarget: {dataset: {code: 'VIP'}}}) // the tap on 立即开通
  if (result.state !== 'paid') throw new Error(`checkout ended ${JSON.stringify(result)}`)
  expect(state.subscribeAsked).toEqual([['TPL_renewal_journey']])
  const optIns = await api.get('/api/v1/notifications/opt-ins/')
  expect(optIns.opt_ins.find(t => t.template_key === 'renewal_reminder').remaining).toBe(1)
  expect(tiers.data.notice).toBe('开通成功，欢迎加入！')
  shared.vipOrderNo = result.order_no
  const home = await openPage('pages/home/index')
  expect(home.data.member).toBe(true)
  expect(home.data.tierName).toBe('VIP')
  expect(home.data.memberNo).toBeTruthy()
  expect(home.data.courses.length).toBeGreaterThan(0)
})

test('the VIP lesson opens and its heartbeats report progress', async () => {
  const page = await openPage('pkg-courses/lesson/index', {id: String(shared.vipLessonId)})
  expectNoError(page, 'lesson')
  expect(page.data.locked).toBe(false)
  expect(page.data.title).toBeTruthy()
  // Play pressed: the server opens a playback session; the player's heartbeats then report where it is
  // (a jump to 20 s at once is a seek: the server moves the position and credits nothing).
  await page.playing()
  page.onTime(20)
  const report = await page.report()
  expect(report).toMatchObject({position_seconds: 20, completed: false})
  const again = await openPage('pkg-courses/lesson/index', {id: String(shared.vipLessonId)})
  expect(again.data.startAt).toBe(20)
})

test('the member posts with a photo in a circle, comments and likes', async () => {
  const list = await openPage('pkg-community/circles/index')
  expectNoError(list, 'circles')
  let circle = null
  for (const row of list.data.circles) {
    const page = await openPage('pkg-community/circle/index', {id: String(row.id)})
    expectNoError(page, `circle ${row.id}`)
    if (!page.data.canRead && page.data.price) {
      const paid = await page.join()
      if (paid.state !== 'paid') throw new Error(`joining circle ${row.id} ended ${JSON.stringify(paid)}`)
    }
    if (page.data.canRead && page.data.rulesPending) await page.acceptRules()
    if (page.data.canRead && page.data.canPost && !page.data.rulesPending) {
      circle = page
      break
    }
  }
  if (!circle) throw new Error(`no circle the VIP member can post in: ${JSON.stringify(list.data.circles)}`)
  circle.onInput({detail: {value: '第一次发帖，来自小程序'}})
  pickPhotoNext()
  await circle.pickImage()
  expect(circle.data.image).toMatch(/zq-photo/)
  const post = await circle.publish()
  if (!post) throw new Error(`publish failed: ${circle.data.notice}`)
  expect(requestsSince(0)).toContain(`UPLOAD /api/v1/circles/${circle.data.id}/posts/`)
  expect(post.images.length).toBe(1)
  expect(post.body).toBe('第一次发帖，来自小程序')
  expect(circle.data.posts[0]).toMatchObject({id: post.id, images: post.images})
  const liked = await circle.toggleLike(post.id)
  expect(liked).toMatchObject({liked: true, like_count: 1})
  const detail = await openPage('pkg-community/post/index', {id: String(post.id)})
  expectNoError(detail, 'post')
  expect(detail.data.liked).toBe(true)
  detail.onInput({detail: {value: '自己先顶一下'}})
  const comment = await detail.comment()
  if (!comment) throw new Error(`comment failed: ${detail.data.notice}`)
  const again = await openPage('pkg-community/post/index', {id: String(post.id)})
  const mine = again.data.comments.find(c => c.body === '自己先顶一下')
  expect(mine).toMatchObject({mine: true})
  expect(await again.deleteComment(mine.id)).toBe(true)
  const after = await openPage('pkg-community/post/index', {id: String(post.id)})
  expect(after.data.comments.map(c => c.body)).not.toContain('自己先顶一下')
  const stale = await openPage('pkg-community/post/index', {id: '99999999', circle: String(circle.data.id)})
  expect(stale.data.error).toBe('这条内容已被删除或不可见')
  stale.backToCircle()
  expect(state.log[state.log.length - 1]).toBe(`redirectTo /pkg-community/circle/index?id=${circle.data.id}`)
  shared.circleId = circle.data.id
  shared.ownPostId = post.id
})

test("the member tips another member's post, paid in WeChat Pay", async () => {
  const circle = await openPage('pkg-community/circle/index', {id: String(shared.circleId)})
  expectNoError(circle, 'circle')
  const me = state.storage.get('zq_user')
  const theirs = circle.data.posts.find(p => p.authorId && p.authorId !== me.id)
  if (!theirs) throw new Error(`no post by another member to tip in circle ${shared.circleId}`)
  const post = await openPage('pkg-community/post/index', {id: String(theirs.id), circle: String(shared.circleId)})
  expectNoError(post, 'post to tip')
  const before = post.data.tipCount
  state.actionSheet = 0 // the first preset
  const result = await post.chooseTip()
  if (!result || result.state !== 'paid') throw new Error(`tipping ended ${JSON.stringify(result)}: ${post.data.notice}`)
  expect(post.data.notice).toMatch(/^已打赏 ¥[0-9.]+，谢谢支持$/)
  const order = await api.get(`/api/v1/orders/${result.order_no}/`)
  expect(order).toMatchObject({status: 'paid', item_type: 'tip'})
  expect(post.data.tipCount).toBe(before + 1)
})

test('the member joins a camp and checks in with text and a photo', async () => {
  const list = await openPage('pkg-community/camps/index')
  expectNoError(list, 'camps')
  const terms = list.data.mine.concat(list.data.camps)
  let camp = null
  for (const row of terms) {
    const page = await openPage('pkg-community/camp/index', {term: String(row.id)})
    expectNoError(page, `camp term ${row.id}`)
    if (page.data.state === 'join' || page.data.state === 'join_free') await page.join()
    if (page.data.state === 'joined' && page.data.task && !page.data.checkedIn) {
      camp = page
      break
    }
  }
  if (!camp) throw new Error(`no running camp term with a task today: ${JSON.stringify(terms)}`)
  camp.onInput({detail: {value: '今天完成了任务，附上截图'}})
  pickPhotoNext()
  await camp.pickImage()
  const created = await camp.checkIn()
  if (!created) throw new Error(`check-in failed: ${camp.data.notice}`)
  expect(requestsSince(0)).toContain(`UPLOAD /api/v1/camps/terms/${camp.data.term}/checkins/`)
  expect(created.images.length).toBe(1)
  expect(camp.data.checkedIn).toMatchObject({text: '今天完成了任务，附上截图'})
  expect(camp.data.checkedIn.images.length).toBe(1)
})

test('the member makes up a missed day, finds themself on the leaderboard and saves the poster', async () => {
  const mine = await openPage('pkg-learning/mycamps/index')
  expectNoError(mine, '训练营与证书')
  const running = mine.data.terms.find(t => t.phase === 'running')
  if (!running) throw new Error(`no running term in 训练营与证书: ${JSON.stringify(mine.data.terms)}`)
  const camp = await openPage('pkg-community/camp/index', {term: String(running.id)})
  expectNoError(camp, 'camp')
  if (!camp.data.makeupDays.length) throw new Error(`no day to make up (makeups left ${camp.data.makeupsLeft})`)
  const day = camp.data.makeupDays[0]
  camp.chooseMakeup({currentTarget: {dataset: {id: day.id}}})
  camp.onInput({detail: {value: `补第 ${day.day} 天：三个标题写好了`}})
  const before = camp.data.checkinDays
  const created = await camp.checkIn()
  if (!created) throw new Error(`make-up failed: ${camp.data.notice}`)
  expect(created).toMatchObject({is_makeup: true, task_id: day.id})
  expect(camp.data.notice).toMatch(new RegExp(`^补卡成功（第 ${day.day} 天）`))
  expect(camp.data.checkinDays).toBe(before + 1)
  expect(camp.data.makeupDays.map(d => d.id)).not.toContain(day.id)

  const board = await openPage('pkg-learning/leaderboard/index', {term: String(running.id)})
  expectNoError(board, 'leaderboard')
  const me = board.data.rows.find(r => r.mine)
  if (!me) throw new Error(`the member is not on the leaderboard: ${JSON.stringify(board.data.rows)}`)
  expect(me.days).toBe(camp.data.checkinDays)
  expect(board.data.me).toMatchObject({rank: me.rank, points: me.points})

  const poster = await openPage('pkg-learning/poster/index', {term: String(running.id), kind: 'poster'})
  expectNoError(poster, 'poster')
  const download = state.downloads[state.downloads.length - 1]
  expect(download).toMatchObject({url: `/api/v1/camps/terms/${running.id}/poster.png`, status: 200, type: 'image/png'})
  expect(require('fs').readFileSync(poster.data.image).subarray(0, 4).toString('hex')).toBe('89504e47')
  expect(await poster.save()).toBe('saved')
  expect(state.album).toContain(poster.data.image)
})

test('the VIP registers for the offline event with the tier, opens the QR ticket, then cancels', async () => {
  const list = await openPage('pkg-learning/events/index')
  expectNoError(list, 'events')
  const row = list.data.events.find(e => e.tiers.includes('VIP'))
  if (!row) throw new Error(`no VIP-included event: ${JSON.stringify(list.data.events)}`)
  const event = await openPage('pkg-learning/event/index', {id: String(row.id)})
  expectNoError(event, 'event')
  expect(event.data.state).toBe('free_for_member')
  expect(event.data.price).toBe('免费')
  const from = state.log.length
  const registered = await event.register()
  expect(registered).toEqual({state: 'registered'})
  expect(event.data.state).toBe('registered')
  expect(requestsSince(from)).toEqual([`POST /api/v1/events/${row.id}/register/`, `GET /api/v1/events/${row.id}/`]) // no order: the tier pays

  const tickets = await openPage('pkg-learning/tickets/index')
  expectNoError(tickets, '电子票')
  expect(tickets.data.upcoming.find(t => t.eventId === row.id)).toMatchObject({state: 'valid', valid: true, stateText: '有效'})
  const ticket = await openPage('pkg-learning/ticket/index', {event: String(row.id)})
  expectNoError(ticket, 'ticket')
  expect(ticket.data.valid).toBe(true)
  expect(ticket.data.code).toMatch(/^[A-Z0-9]{6,16}$/)
  if (!ticket.data.qr) throw new Error(`the QR did not load: ${ticket.data.qrError}`)
  const download = state.downloads[state.downloads.length - 1]
  expect(download).toMatchObject({url: `/api/v1/events/tickets/${ticket.data.code}/qr.png`, status: 200, type: 'image/png'})

  const code = ticket.data.code
  await event.cancel()
  expect(event.data.notice).toBe('已取消报名')
  const after = await openPage('pkg-learning/tickets/index')
  expect(after.data.upcoming.map(t => t.eventId)).not.toContain(row.id)
  expect(after.data.voided.find(t => t.eventId === row.id)).toMatchObject({state: 'cancelled', stateText: '已取消', valid: false})
  const stale = await openPage('pkg-learning/ticket/index', {event: String(row.id)})
  expect(stale.data).toMatchObject({valid: false, stateText: '已取消', qr: ''})
  const gone = await api.download(`/api/v1/events/tickets/${code}/qr.png`).then(() => null, e => e)
  expect(gone && gone.status).toBe(404)
})

test('我的 shows the membership and the order; the refund inside the window goes through', async () => {
  const me = await openPage('pages/me/index')
  expectNoError(me, '我的')
  expect(me.data.membership).toMatchObject({tier: 'VIP'})
  expect(me.data.memberNo).toBeTruthy()
  expect(me.data.orders.map(o => o.no)).toContain(shared.vipOrderNo)
  let detail = await openPage('pkg-orders/detail/index', {no: shared.vipOrderNo})
  expectNoError(detail, 'order detail')
  expect(detail.data.status).toBe('paid')
  // The VIP order whose payment the member cancelled still waits: the refund asks them to cancel it first.
  expect(detail.data.refund.refundable).toBe(false)
  expect(detail.data.refund.message).toContain(shared.cancelledOrderNo)
  const waiting = await openPage('pkg-orders/detail/index', {no: shared.cancelledOrderNo})
  const closed = await waiting.cancelOrder()
  expect(closed).toMatchObject({order_no: shared.cancelledOrderNo, status: 'closed'})
  expect(waiting.data.notice).toBe('订单已取消')
  detail = await openPage('pkg-orders/detail/index', {no: shared.vipOrderNo})
  expect(detail.data.refund).toMatchObject({refundable: true, amount: '¥3600'})
  await detail.refund()
  expect(['refunding', 'refunded']).toContain(detail.data.status)
  expect(detail.data.notice).toMatch(/退款/)
})

test('the promoter sees the invitee', async () => {
  asNewPhone('promoter')
  const mine = await api.get('/api/v1/referrals/me/')
  expect(mine.invited_count).toBeGreaterThanOrEqual(1)
})

test('the promoter withdraws, finance approves in admin, and the promoter confirms receipt in WeChat', async () => {
  asNewPhone('promoter')
  const centre = await openPage('pkg-promoter/index/index')
  expectNoError(centre, '推广中心')
  expect(centre.data.availableFen).toBe(8800) // settled commission (tests/miniprogram/test_journeys.py)
  centre.setData({method: 'wechat'})
  await centre.withdraw()
  expect(centre.data.notice).toMatch(/^已申请提现 ¥88/)
  const listed = await api.get('/api/v1/wallet/withdrawals/')
  const mine = listed.results[0]
  expect(mine).toMatchObject({amount_fen: 8800, method: 'wechat', status: 'pending_review'})

  await asOperator(`/admin/payments/withdrawal/${mine.id}/approve/`) // 审核通过: the transfer goes to WeChat
  const waiting = await api.get(`/api/v1/wallet/withdrawals/${mine.id}/`)
  expect(waiting.status).toBe('wait_user_confirm')

  const again = await openPage('pkg-promoter/index/index')
  await again.confirmReceipt(mine.id)
  expect(requestsSince(0)).toContain(`GET /api/v1/wallet/withdrawals/${mine.id}/confirm/`)
  expect(state.log).toContain('requestMerchantTransfer')
  expect(again.data.notice).toMatch(/^收款确认：/)
  const done = await api.get(`/api/v1/wallet/withdrawals/${mine.id}/`)
  expect(done.status).toBe('paid')
  const wallet = await api.get('/api/v1/wallet/')
  expect(wallet.available_fen).toBe(0)
})

test('a developer against make demo: sandbox login, then a course paid in the sandbox', async () => {
  const {config} = require('./harness')
  asNewPhone('unused')
  config.sandboxLogin = true
  config.sandboxUser = 'devtools'
  config.payChannel = 'sandbox'
  try {
    const me = await openPage('pages/me/index')
    expectNoError(me, '我的 (sandbox login)')
    expect(requestsSince(0)[0]).toBe('POST /api/v1/auth/wechat/miniprogram/')
    const list = await openPage('pkg-courses/list/index')
    const course = list.data.courses.find(c => !c.unlocked && c.price !== '免费')
    if (!course) throw new Error(`no paid course to buy: ${JSON.stringify(list.data.courses)}`)
    const detail = await openPage('pkg-courses/detail/index', {id: String(course.id)})
    const result = await detail.buy()
    if (result.state !== 'paid') throw new Error(`sandbox checkout ended ${JSON.stringify(result)}`)
    expect(requestsSince(0)).toContain(`POST /api/v1/orders/${result.order_no}/sandbox-pay/`)
    expect(detail.data.unlocked).toBe(true)
  } finally {
    config.sandboxLogin = false
    config.payChannel = 'wechat_miniprogram'
  }
})
