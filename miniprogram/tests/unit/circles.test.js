/** Circles, complete: join / renew / trial, rules before posting, comments (add, delete own), likes, tips,
 * paid Q&A (ask, answer as the guest), 我的圈子, and a deleted post opened from a stale share. */
const {mockWx, loggedIn, apiCalls, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')
const config = require('../../app/config')

beforeAll(() => {
  config.payPollMs = 1
})

const access = {can_read: true, can_post: true, can_manage: false, role: 'member', reason: '', rules_pending: false, via_tier: false, expires_at: '2026-12-20T10:00:00+08:00'}
const price = {kind: 'renewal', band: 'early', list_price_fen: 19900, amount_fen: 15900, expires_at: null, checkout_url: ''}
const circle = {
  id: 1, name: '创作者圈', intro: '一起写', cover_url: '', owner: {id: 2, nickname: '老师', avatar_url: ''}, access, price, price_unavailable: '',
  renewal_due: false, trial_days: 3, rules_version: 2, rules: '友善发言', included_in_tiers: [], post_count: 1, preview: [],
  guests: [{id: 8, nickname: '嘉宾甲', avatar_url: ''}], qa_price_fen: 990,
}
const post = {id: 9, circle_id: 1, kind: 'talk', title: '', body: '你好', images: [], tags: [], status: 'visible', is_pinned: false, is_featured: false, is_answered: false, question_id: null, like_count: 1, comment_count: 2, tip_count: 0, tip_total_fen: 0, liked_by_me: false, created_at: '2026-12-07T10:00:00+08:00', author: {id: 2, nickname: '老师', avatar_url: ''}}
const comment = (id, authorId, nickname, body) => ({id, body, status: 'visible', author: {id: authorId, nickname, avatar_url: ''}, parent_id: null, tip_count: 0, created_at: '2026-12-07T11:00:00+08:00', replies: []})
const paidOrder = no => ({
  'POST /api/v1/orders/': {statusCode: 201, data: {order_no: no, status: 'pending', amount_fen: 990, payment: {timeStamp: '1', nonceStr: 'n', package: 'prepay_id=1', signType: 'RSA', paySign: 's'}}},
  [`GET /api/v1/orders/${no}/`]: ok({order_no: no, status: 'paid', amount_fen: 990, paid_at: '2026-12-07T10:00:00+08:00', item_type: 'x', item_id: '1'}),
})

describe('circle page', () => {
  test('a non-member sees join and trial; joining pays the circle, then the feed shows', async () => {
    const locked = {...circle, access: {...access, can_read: false, can_post: false, role: '', reason: 'not_member', expires_at: null}, price: {...price, kind: 'join', amount_fen: 19900}}
    const wx = mockWx({
      'GET /api/v1/circles/1/': [ok(locked), ok(circle)],
      'GET /api/v1/circles/1/posts/': ok(page([post])),
      ...paidOrder('ZQ1'),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    expect(text(comp, '#join')).toBe('加入圈子 ¥199')
    expect(text(comp)).toContain('免费试用 3 天')
    await comp.instance.join()
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data).toMatchObject({item_type: 'circle', item_id: '1'})
    expect(comp.instance.data.notice).toBe('已加入圈子')
    expect(text(comp, '.post')).toContain('你好')
  })

  test('an expired member is offered 续费 at the renewal price', async () => {
    const expired = {...circle, access: {...access, can_read: false, can_post: false, reason: 'expired'}}
    const wx = mockWx({'GET /api/v1/circles/1/': ok(expired)})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    expect(text(comp, '#join')).toBe('续费 ¥159')
  })

  test('a member whose time is ending sees the renewal offer in the feed', async () => {
    const wx = mockWx({'GET /api/v1/circles/1/': ok({...circle, renewal_due: true}), 'GET /api/v1/circles/1/posts/': ok(page([]))})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    expect(text(comp, '#renewal')).toBe('会员即将到期 续费 ¥159')
  })

  test('the trial starts once and the page reloads', async () => {
    const locked = {...circle, price: null, access: {...access, can_read: false, can_post: false, reason: 'not_member'}}
    const wx = mockWx({
      'GET /api/v1/circles/1/': [ok(locked), ok(circle)],
      'GET /api/v1/circles/1/posts/': ok(page([])),
      'POST /api/v1/circles/1/trial/': {statusCode: 201, data: {...access, role: 'trial'}},
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    await comp.instance.startTrial()
    expect(comp.instance.data.notice).toBe('已开始 3 天试用')
    expect(comp.instance.data.canRead).toBe(true)
  })

  test('the rules come before posting: no composer until accepted, then accepted with the version read', async () => {
    const pending = {...circle, access: {...access, rules_pending: true}}
    const wx = mockWx({
      'GET /api/v1/circles/1/': [ok(pending), ok(circle)],
      'GET /api/v1/circles/1/posts/': ok(page([])),
      'POST /api/v1/circles/1/rules/accept/': ok(access),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    expect(text(comp, '#rules')).toBe('圈子规则 友善发言')
    expect(comp.querySelector('#composer')).toBeFalsy()
    await comp.instance.acceptRules()
    await new Promise(r => setTimeout(r, 0))
    expect(wx.calls.find(c => c.key === 'POST /api/v1/circles/1/rules/accept/').data).toEqual({version: 2})
    expect(comp.querySelector('#composer')).toBeTruthy()
  })

  test('a like from the feed', async () => {
    const wx = mockWx({
      'GET /api/v1/circles/1/': ok(circle),
      'GET /api/v1/circles/1/posts/': ok(page([post])),
      'POST /api/v1/circles/posts/9/like/': ok({liked: true, like_count: 2}),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    await comp.instance.toggleLike(9)
    expect(comp.instance.data.posts[0]).toMatchObject({liked: true, likes: 2})
  })

  test('a paid question to a guest: created for that guest, then paid as circle_question', async () => {
    const question = {id: 31, circle_id: 1, asker: {id: 1, nickname: '小明', avatar_url: ''}, guest: {id: 8, nickname: '嘉宾甲', avatar_url: ''}, body: '怎么开始？', price_fen: 990, status: 'created', deadline: null, post_id: null, answer_post_id: null, item_type: 'circle_question', checkout_url: ''}
    const wx = mockWx({
      'GET /api/v1/circles/1/': ok(circle),
      'GET /api/v1/circles/1/posts/': ok(page([])),
      'POST /api/v1/circles/1/questions/': {statusCode: 201, data: question},
      ...paidOrder('ZQ2'),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    expect(text(comp, '#ask')).toContain('付费提问 · ¥9.90')
    comp.instance.onQuestion({detail: {value: '怎么开始？'}})
    const result = await comp.instance.ask()
    expect(result.state).toBe('paid')
    expect(wx.calls.find(c => c.key === 'POST /api/v1/circles/1/questions/').data).toEqual({guest_id: 8, body: '怎么开始？'})
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data).toMatchObject({item_type: 'circle_question', item_id: '31'})
    expect(comp.instance.data.notice).toBe('已向 嘉宾甲 提问，回答后会通知你')
  })

  test('an empty question is not sent', async () => {
    const wx = mockWx({'GET /api/v1/circles/1/': ok(circle), 'GET /api/v1/circles/1/posts/': ok(page([]))})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circle/index', {id: '1'})
    await comp.instance.ask()
    expect(comp.instance.data.notice).toBe('请选择嘉宾并写下问题')
    expect(apiCalls(wx)).toEqual(['GET /api/v1/circles/1/', 'GET /api/v1/circles/1/posts/'])
  })
})

describe('post page', () => {
  const routes = extra => ({
    'GET /api/v1/circles/posts/9/': ok(post),
    'GET /api/v1/circles/posts/9/comments/': ok(page([comment(40, 1, '小明', '我的评论'), comment(41, 3, '小红', '别人的')])),
    ...extra,
  })

  test('only my own comment can be deleted; deleting removes it', async () => {
    const wx = mockWx(routes({'DELETE /api/v1/circles/comments/40/': {statusCode: 204, data: ''}}))
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    const rows = comp.querySelectorAll('.comment')
    expect(rows.map(r => text(r))).toEqual(['小明：我的评论 删除', '小红：别人的'])
    expect(await comp.instance.deleteComment(40)).toBe(true)
    expect(comp.instance.data.comments.map(c => c.id)).toEqual([41])
    expect(comp.instance.data.notice).toBe('评论已删除')
  })

  test('a comment is added with my name', async () => {
    const wx = mockWx(routes({'POST /api/v1/circles/posts/9/comments/': {statusCode: 201, data: comment(42, 1, '小明', '赞同')}}))
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    comp.instance.onInput({detail: {value: '赞同'}})
    await comp.instance.comment()
    expect(comp.instance.data.comments[2]).toMatchObject({id: 42, author: '小明', body: '赞同', mine: true})
  })

  test('a comment cannot be sent without a network, and nothing changes', async () => {
    const wx = mockWx(routes(), {networkType: 'none'})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    comp.instance.onInput({detail: {value: '赞同'}})
    await comp.instance.comment()
    expect(comp.instance.data.notice).toBe('网络不可用，请检查网络后重试')
    expect(comp.instance.data.comments.length).toBe(2)
    expect(comp.instance.data.draft).toBe('赞同')
    expect(apiCalls(wx)).not.toContain('POST /api/v1/circles/posts/9/comments/')
  })

  test('a tip: the preset chosen, the tip created for the post and paid as item type tip', async () => {
    const wx = mockWx(
      routes({
        'GET /api/v1/circles/tips/options/': ok({presets_fen: [200, 500, 1000], min_fen: 100, max_fen: 50000, platform_fee_bp: 1000}),
        'POST /api/v1/circles/tips/': {statusCode: 201, data: {tip_id: 77, item_type: 'tip', item_id: '77', amount_fen: 500, author_share_fen: 450, platform_fee_fen: 50, checkout_url: ''}},
        ...paidOrder('ZQ3'),
      }),
    )
    wx.showActionSheet = o => o.success({tapIndex: 1})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    const result = await comp.instance.chooseTip()
    expect(result.state).toBe('paid')
    expect(wx.calls.find(c => c.key === 'POST /api/v1/circles/tips/').data).toEqual({post_id: 9, amount_fen: 500})
    expect(wx.calls.find(c => c.key === 'POST /api/v1/orders/').data).toMatchObject({item_type: 'tip', item_id: '77'})
    expect(comp.instance.data.notice).toBe('已打赏 ¥5，谢谢支持')
  })

  test('a tip cancelled in WeChat Pay: told, order kept pending', async () => {
    const wx = mockWx(
      routes({
        'POST /api/v1/circles/tips/': {statusCode: 201, data: {tip_id: 77, item_type: 'tip', item_id: '77', amount_fen: 500, author_share_fen: 450, platform_fee_fen: 50, checkout_url: ''}},
        ...paidOrder('ZQ4'),
      }),
      {payment: o => o.fail({errMsg: 'requestPayment:fail cancel'})},
    )
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    await comp.instance.tip(500)
    expect(comp.instance.data.notice).toBe('已取消支付，订单保留为待支付')
  })

  test('a deleted post from a stale share: a clear message and the way back to its circle', async () => {
    const wx = mockWx({'GET /api/v1/circles/posts/9/': {statusCode: 404, data: {code: 'not_found', message: '未找到'}}})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9', circle: '1'})
    expect(text(comp, '#error')).toBe('这条内容已被删除或不可见')
    expect(text(comp, '#back')).toBe('返回圈子')
    comp.instance.backToCircle()
    expect(wx.calls.map(c => c.key)).toContain('redirectTo /pkg-community/circle/index?id=1')
  })

  test('an old share without the circle leads to the circle list', async () => {
    const wx = mockWx({'GET /api/v1/circles/posts/9/': {statusCode: 404, data: {code: 'not_found', message: '未找到'}}})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    expect(text(comp, '#back')).toBe('去看看其他圈子')
    comp.instance.backToCircle()
    expect(wx.calls.map(c => c.key)).toContain('redirectTo /pkg-community/circles/index')
  })

  test('shares carry the circle, so a stale one can lead back', async () => {
    const wx = mockWx(routes())
    loggedIn(wx)
    wx.setStorageSync('zq_my_code', 'ABCD2345')
    const comp = await renderPage('pkg-community/post/index', {id: '9'})
    expect(comp.instance.onShareAppMessage().path).toBe('/pkg-community/post/index?id=9&circle=1&ref=ABCD2345')
  })
})

describe('我的问答', () => {
  const q = (id, asker, guest, status, extra = {}) => ({id, circle_id: 1, asker, guest, body: `问题${id}`, price_fen: 990, status, deadline: '2026-12-10T10:00:00+08:00', post_id: null, answer_post_id: null, item_type: 'circle_question', checkout_url: '', ...extra})
  const me = {id: 1, nickname: '小明', avatar_url: ''}
  const other = {id: 5, nickname: '小红', avatar_url: ''}

  test('the guest answers an open question; questions I asked only show their state', async () => {
    const wx = mockWx({
      'GET /api/v1/circles/questions/': [
        ok(page([q(1, other, me, 'open'), q(2, me, other, 'answered', {answer_post_id: 60})])),
        ok(page([q(1, other, me, 'answered', {answer_post_id: 61}), q(2, me, other, 'answered', {answer_post_id: 60})])),
      ],
      'POST /api/v1/circles/questions/1/answer/': ok(q(1, other, me, 'answered', {answer_post_id: 61})),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/questions/index')
    const rows = comp.querySelectorAll('.question').map(r => text(r))
    expect(rows[0]).toContain('小红 问我 · ¥9.90 · 待回答')
    expect(rows[0]).toContain('发布回答')
    expect(rows[1]).toBe('我问 小红 · ¥9.90 · 已回答 问题2 查看回答 ›')
    await comp.instance.answer(1, '先写起来')
    expect(wx.calls.find(c => c.key === 'POST /api/v1/circles/questions/1/answer/').data).toEqual({body: '先写起来'})
    expect(comp.instance.data.notice).toBe('回答已发布')
    expect(comp.instance.data.questions[0].canAnswer).toBe(false)
  })

  test('an empty answer is not sent', async () => {
    const wx = mockWx({'GET /api/v1/circles/questions/': ok(page([q(1, other, me, 'open')]))})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/questions/index')
    await comp.instance.answer(1, '  ')
    expect(comp.instance.data.notice).toBe('请先写下回答')
    expect(apiCalls(wx)).toEqual(['GET /api/v1/circles/questions/'])
  })
})

describe('我的圈子', () => {
  const row = (id, name, accessExtra, extra = {}) => ({id, name, intro: '', cover_url: '', owner: {id: 2, nickname: '老师', avatar_url: ''}, access: {...access, ...accessExtra}, latest_post_id: null, latest_post_text: '', latest_post_at: null, new_posts: 0, ...extra})

  test('owned, joined and run-out circles in one call, each opening its circle', async () => {
    const wx = mockWx({
      'GET /api/v1/circles/mine/': ok({
        owned: [row(3, '我的圈', {role: 'owner', can_manage: true, expires_at: null})],
        joined: [row(1, '创作者圈', {}, {latest_post_text: '本周复盘', new_posts: 2}), row(4, '试用圈', {role: 'trial', expires_at: '2026-12-10T10:00:00+08:00'})],
        expired: [row(5, '过期圈', {can_read: false, reason: 'expired'})],
      }),
    })
    loggedIn(wx)
    const comp = await renderPage('pkg-community/mine/index')
    expect(comp.querySelectorAll('.my-circle').map(r => text(r))).toEqual([
      '我的圈 圈主',
      '创作者圈 有效期至 2026-12-20 本周复盘 2 条新帖',
      '试用圈 试用至 2026-12-10',
      '过期圈 已到期 · 续费',
    ])
    expect(apiCalls(wx)).toEqual(['GET /api/v1/circles/mine/'])
    comp.instance.open({currentTarget: {dataset: {id: 5}}})
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-community/circle/index?id=5')
  })

  test('none yet: says so and offers the list', async () => {
    const wx = mockWx({'GET /api/v1/circles/mine/': ok({owned: [], joined: [], expired: []})})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/mine/index')
    expect(text(comp, '#empty')).toBe('还没有加入圈子')
  })

  test('the circle list links to it', async () => {
    const wx = mockWx({'GET /api/v1/circles/': ok(page([]))})
    loggedIn(wx)
    const comp = await renderPage('pkg-community/circles/index')
    expect(text(comp, '#mine')).toBe('我的圈子')
    comp.instance.openMine()
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-community/mine/index')
  })

  test('我的 links to it', async () => {
    const {memberMe} = require('./fixtures')
    const wx = mockWx({'GET /api/v1/me/': ok(memberMe), 'GET /api/v1/orders/': ok(page([]))})
    loggedIn(wx)
    const comp = await renderPage('pages/me/index')
    expect(text(comp, '#my-circles')).toBe('我的圈子')
    comp.instance.openCircles()
    expect(wx.calls.map(c => c.key)).toContain('navigateTo /pkg-community/mine/index')
  })
})
