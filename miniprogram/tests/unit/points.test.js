/** 积分商城: balance, rewards the member can afford, and redeeming with a fresh idempotency key per tap. */
const {mockWx, loggedIn, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')

const points = {...page([{id: 1, amount: 1000, balance_after: 1000, reason: '新人礼包', created_at: '2026-12-01T10:00:00+08:00'}]), balance: 1000}
const rewards = page([
  {id: 4, title: '课程兑换券', description: '', item_type: 'course', item_id: '1', points_price: 800, stock: 5, per_member_limit: 1, redeemed_by_me: 0},
  {id: 5, title: '年度会员', description: '', item_type: 'membership', item_id: 'VIP', points_price: 50000, stock: null, per_member_limit: 1, redeemed_by_me: 0},
])

test('balance, history and what the member can afford', async () => {
  const wx = mockWx({'GET /api/v1/points/': ok(points), 'GET /api/v1/points/rewards/': ok(rewards)})
  loggedIn(wx)
  const comp = await renderPage('pkg-orders/points/index')
  expect(text(comp, '#balance')).toBe('1000')
  expect(text(comp, '.entry')).toBe('新人礼包 2026-12-01 +1000')
  expect(comp.instance.data.rewards.map(r => [r.title, r.affordable])).toEqual([['课程兑换券', true], ['年度会员', false]])
})

test('redeeming sends an idempotency key and shows the new balance; refusals show the server message', async () => {
  const wx = mockWx({
    'GET /api/v1/points/': ok(points),
    'GET /api/v1/points/rewards/': ok(rewards),
    'POST /api/v1/points/rewards/4/redeem/': {statusCode: 201, data: {id: 1, reward_id: 4, points: 800, order_no: 'ZQ9', balance: 200, created_at: ''}},
    'POST /api/v1/points/rewards/5/redeem/': {statusCode: 400, data: {code: 'insufficient_points', message: '积分不足'}},
  })
  loggedIn(wx)
  const comp = await renderPage('pkg-orders/points/index')
  await comp.instance.redeemReward(4)
  expect(wx.calls.find(c => c.key === 'POST /api/v1/points/rewards/4/redeem/').data.idempotency_key).toMatch(/^mp-4-/)
  expect(comp.instance.data.notice).toBe('兑换成功，剩余 200 积分')
  await comp.instance.redeemReward(5)
  expect(comp.instance.data.notice).toBe('积分不足')
})
