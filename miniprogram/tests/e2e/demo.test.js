/**
 * The journeys a developer runs against `make demo`: WeChat is not there, so the app logs in with the
 * sandbox code (`config.sandboxLogin`) and pays in the sandbox (`payChannel: 'sandbox'`), as it does in
 * WeChat DevTools against the demo. `npm run journeys:demo` runs this file against a running demo
 * (ZQ_API_BASE_URL, default http://127.0.0.1:8000); tests/miniprogram/test_journeys.py runs it against its
 * live test server too. Each run signs in fresh people (names carry the run), so it can be repeated.
 */
const {openPage, launch, asNewPhone, requestsSince, pickPhotoNext, config} = require('./harness')
const api = require('../../app/utils/api')

jest.setTimeout(60000)

const run = Date.now().toString(36)
const shared = {sharerCode: '', vipOrderNo: ''}

function expectNoError(page, where) {
  if (page.data.error) throw new Error(`${where}: the page shows an error: ${page.data.error}`)
}

function signInAs(name) {
  asNewPhone(name)
  config.sandboxLogin = true
  config.sandboxUser = `${name}-${run}`
  config.payChannel = 'sandbox'
}

afterAll(() => {
  config.sandboxLogin = false
  config.payChannel = 'wechat_miniprogram'
})

test('someone signs in with the sandbox code and finds their referral code in 我的', async () => {
  signInAs('sharer')
  launch({})
  const me = await openPage('pages/me/index')
  expectNoError(me, '我的')
  expect(requestsSince(0)[0]).toBe('POST /api/v1/auth/wechat/miniprogram/')
  expect(me.data.referralCode).toMatch(/^[A-Z0-9]{4,16}$/)
  shared.sharerCode = me.data.referralCode
})

test('a friend opens the 小程序码, buys VIP in the sandbox and a VIP lesson opens', async () => {
  signInAs('friend')
  launch({scene: encodeURIComponent(`r=${shared.sharerCode}`)})
  const home = await openPage('pages/home/index')
  expectNoError(home, 'home')
  expect(home.data.member).toBe(false)
  const tiers = await openPage('pages/tiers/index')
  const result = await tiers.buy({currentTarget: {dataset: {code: 'VIP'}}})
  if (result.state !== 'paid') throw new Error(`sandbox checkout ended ${JSON.stringify(result)}`)
  expect(requestsSince(0)).toContain(`POST /api/v1/orders/${result.order_no}/sandbox-pay/`)
  shared.vipOrderNo = result.order_no

  const list = await openPage('pkg-courses/list/index')
  expectNoError(list, 'courses')
  let opened = null
  for (const course of list.data.courses.filter(c => c.tiers.split('/').includes('VIP'))) {
    const detail = await openPage('pkg-courses/detail/index', {id: String(course.id)})
    const lesson = detail.data.lessons.find(l => !l.preview)
    if (lesson) {
      opened = await openPage('pkg-courses/lesson/index', {id: String(lesson.id)})
      break
    }
  }
  if (!opened) throw new Error(`no VIP course with a members-only lesson: ${JSON.stringify(list.data.courses)}`)
  expectNoError(opened, 'lesson')
  expect(opened.data.locked).toBe(false)
})

test('the VIP joins a circle in the sandbox and posts with a photo', async () => {
  const list = await openPage('pkg-community/circles/index')
  expectNoError(list, 'circles')
  let circle = null
  for (const row of list.data.circles) {
    const page = await openPage('pkg-community/circle/index', {id: String(row.id)})
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
  if (!circle) throw new Error(`no circle the VIP can post in: ${JSON.stringify(list.data.circles)}`)
  circle.onInput({detail: {value: `来自 DevTools 演示的第一帖 ${run}`}})
  pickPhotoNext()
  await circle.pickImage()
  const post = await circle.publish()
  if (!post) throw new Error(`publish failed: ${circle.data.notice}`)
  expect(post.images.length).toBe(1)
  // Published, not held for review: WeChat's content check is not asked about sandbox users.
  expect(post.status).toBe('visible')
})

test('the VIP checks in to the running camp with a photo', async () => {
  const list = await openPage('pkg-community/camps/index')
  expectNoError(list, 'camps')
  let camp = null
  for (const row of list.data.mine.concat(list.data.camps)) {
    const page = await openPage('pkg-community/camp/index', {term: String(row.id)})
    if (page.data.state === 'join' || page.data.state === 'join_free') await page.join()
    if (page.data.state === 'joined' && page.data.task && !page.data.checkedIn) {
      camp = page
      break
    }
  }
  if (!camp) throw new Error(`no running camp term with a task today: ${JSON.stringify(list.data.camps)}`)
  camp.onInput({detail: {value: '今天的任务完成了，附上截图'}})
  pickPhotoNext()
  await camp.pickImage()
  const created = await camp.checkIn()
  if (!created) throw new Error(`check-in failed: ${camp.data.notice}`)
  expect(created.images.length).toBe(1)
  expect(created.status).toBe('visible')
})

test('the VIP order is refunded inside its window', async () => {
  const detail = await openPage('pkg-orders/detail/index', {no: shared.vipOrderNo})
  expectNoError(detail, 'order detail')
  expect(detail.data.refund.refundable).toBe(true)
  await detail.refund()
  expect(['refunding', 'refunded']).toContain(detail.data.status)
})

test('the sharer finds the friend among their invitees', async () => {
  signInAs('sharer')
  const mine = await api.get('/api/v1/referrals/me/')
  expect(mine.invited_count).toBeGreaterThanOrEqual(1)
})
