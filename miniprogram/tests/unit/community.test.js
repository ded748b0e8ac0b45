/** Circles and camps: an oversized image is refused before upload; posting with an image uses wx.uploadFile. */
const {mockWx, loggedIn, apiCalls, renderPage, text} = require('./helpers')
const {ok, page} = require('./fixtures')

const circle = {
  id: 1, name: '创作者圈', intro: '', cover_url: '', owner: {id: 2, nickname: '老师', avatar_url: ''},
  access: {can_read: true, can_post: true, can_manage: false, role: 'member', reason: '', rules_pending: false, via_tier: false, expires_at: null},
  price: null, price_unavailable: '', trial_days: 3, rules_version: 1, rules: '', included_in_tiers: [], post_count: 0, preview: [], guests: [], qa_price_fen: 0,
}
const post = {id: 9, circle_id: 1, kind: 'talk', title: '', body: '你好', images: ['http://x/media/a.png'], tags: [], status: 'visible', is_pinned: false, is_featured: false, is_answered: false, question_id: null, like_count: 0, comment_count: 0, tip_count: 0, tip_total_fen: 0, liked_by_me: false, created_at: '2026-12-07T10:00:00+08:00', author: {id: 1, nickname: '小明', avatar_url: ''}}

function withMedia(wx, size) {
  wx.chooseMedia = opts => opts.success({type: 'image', tempFiles: [{tempFilePath: 'wxfile://tmp/a.png', size, fileType: 'image'}]})
}

test('an image over 5 MB is refused before any upload', async () => {
  const uploads = []
  const wx = mockWx({'GET /api/v1/circles/1/': ok(circle), 'GET /api/v1/circles/1/posts/': ok(page([]))}, {uploadFile: o => uploads.push(o)})
  withMedia(wx, 6 * 1024 * 1024)
  loggedIn(wx)
  const comp = await renderPage('pkg-community/circle/index', {id: '1'})
  await comp.instance.pickImage()
  expect(comp.instance.data.image).toBe('')
  expect(comp.instance.data.notice).toBe('图片不能超过 5 MB，请换一张')
  expect(uploads).toEqual([])
})

test('a post with an image goes up with wx.uploadFile, as multipart field images', async () => {
  const uploads = []
  const wx = mockWx(
    {'GET /api/v1/circles/1/': ok(circle), 'GET /api/v1/circles/1/posts/': ok(page([]))},
    {uploadFile: o => (uploads.push(o), setTimeout(() => o.success({statusCode: 201, data: JSON.stringify(post)}), 0))},
  )
  withMedia(wx, 200 * 1024)
  loggedIn(wx)
  const comp = await renderPage('pkg-community/circle/index', {id: '1'})
  await comp.instance.pickImage()
  comp.instance.onInput({detail: {value: '你好'}})
  await comp.instance.publish()
  expect(uploads[0]).toMatchObject({name: 'images', filePath: 'wxfile://tmp/a.png', formData: {kind: 'talk', body: '你好'}})
  expect(uploads[0].header.Authorization).toBe('Bearer access-1')
  await new Promise(r => setTimeout(r, 5))
  expect(text(comp, '.post')).toContain('你好')
  expect(comp.instance.data.notice).toBe('发布成功')
})

test('a post deleted since it was shared says so', async () => {
  const wx = mockWx({'GET /api/v1/circles/posts/9/': {statusCode: 404, data: {code: 'not_found', message: '未找到'}}})
  loggedIn(wx)
  const comp = await renderPage('pkg-community/post/index', {id: '9'})
  expect(text(comp, '#error')).toBe('这条内容已被删除或不可见')
  expect(apiCalls(wx)).toEqual(['GET /api/v1/circles/posts/9/'])
})

test('a camp task that needs an image will not check in without one', async () => {
  const term = {
    id: 3, name: '第 1 期', start_date: '2026-12-01', end_date: '2026-12-21', days: 21, price: null, camp_id: 2, camp_title: '21 天写作营',
    access: {state: 'joined', message: '', can_view: true}, today: '2026-12-07', day: 7,
    today_task: {id: 70, day: 7, date: '2026-12-07', title: '写一篇复盘', body: '500 字', requires_image: true},
    my_checkin_today: null, seat: {points: 10, checkin_days: 6, streak: 6, best_streak: 6, makeups_used: 0, makeups_left: 2, rank: 1, completed: false, certificate_no: ''},
    price_unavailable: '',
  }
  const wx = mockWx({'GET /api/v1/camps/terms/3/': ok(term), 'GET /api/v1/camps/terms/3/calendar/': ok([])})
  loggedIn(wx)
  const comp = await renderPage('pkg-community/camp/index', {term: '3'})
  expect(text(comp, '#streak')).toBe('第 7 天 · 已打卡 6 天 · 连续 6 天')
  expect(text(comp, '#task')).toBe('今日任务 写一篇复盘 500 字')
  comp.instance.onInput({detail: {value: '完成'}})
  await comp.instance.checkIn()
  expect(comp.instance.data.notice).toBe('今天的任务需要上传图片')
  expect(apiCalls(wx).filter(call => !call.startsWith('GET '))).toEqual([]) // nothing sent
})
