/** 消息通知: unread count, marking one read, marking all read. */
const {mockWx, loggedIn, renderPage, text} = require('./helpers')
const {ok} = require('./fixtures')

const list = {
  count: 2, next: null, previous: null, unread_count: 1,
  results: [
    {id: 2, kind: 'order_paid', title: '支付成功', body: 'VIP 会员已开通', url: '', read: false, created_at: '2026-12-07T10:00:00+08:00'},
    {id: 1, kind: 'welcome', title: '欢迎', body: '欢迎加入知圈', url: '', read: true, created_at: '2026-12-01T10:00:00+08:00'},
  ],
}

test('unread first, one read by a tap, then all', async () => {
  const wx = mockWx({
    'GET /api/v1/notifications/': ok(list),
    'POST /api/v1/notifications/2/read/': ok({...list.results[0], read: true}),
    'POST /api/v1/notifications/read-all/': ok({marked: 0, unread_count: 0}),
  })
  loggedIn(wx)
  const comp = await renderPage('pkg-orders/notifications/index')
  expect(text(comp, '#unread')).toBe('1 条未读')
  expect(comp.querySelectorAll('.notification').map(n => text(n))).toEqual(['支付成功 未读 VIP 会员已开通 2026-12-07', '欢迎 欢迎加入知圈 2026-12-01'])
  await comp.instance.markRead(2)
  expect(comp.instance.data.unread).toBe(0)
  await comp.instance.markRead(1) // already read: no call
  expect(wx.calls.filter(c => c.key.startsWith('POST')).map(c => c.key)).toEqual(['POST /api/v1/notifications/2/read/'])
})
