// @ts-check
/**
 * 圈子详情: join (paid), renew when the time is ending, the free trial, rules (accept them before posting),
 * the feed, likes, a composer that posts text (POST …/posts/) or text with one image (wx.uploadFile,
 * multipart field `images`), and 付费提问: ask one of the circle's guests (POST …/questions/), paid as
 * item type circle_question.
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {chooseImage} = require('../../utils/media')
const {date, yuan} = require('../../utils/format')
const storage = require('../../utils/storage')
const {sharePath} = require('../../utils/referral')

/** @param {any} p */
function postRow(p) {
  return {
    id: p.id,
    author: p.author ? p.author.nickname : '',
    authorId: p.author ? p.author.id : 0,
    title: p.title || '',
    body: p.body,
    images: p.images || [],
    likes: p.like_count,
    comments: p.comment_count,
    liked: !!p.liked_by_me,
    created: date(p.created_at),
  }
}

Component({
  data: {
    loading: true,
    error: '',
    id: 0,
    name: '',
    intro: '',
    canRead: false,
    canPost: false,
    reason: '',
    rulesPending: false,
    rules: '',
    rulesVersion: 0,
    trialDays: 0,
    price: '',
    renewalDue: false,
    guests: /** @type {{id: number, nickname: string}[]} */ ([]),
    guestIndex: 0,
    qaPrice: '',
    qaPriceFen: 0,
    question: '',
    posts: /** @type {any[]} */ ([]),
    draft: '',
    image: '',
    notice: '',
    busy: false,
  },
  methods: {
    /** @param {{id?: string}} query */
    onLoad(query) {
      this.setData({id: Number((query && query.id) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const circle = await api.get(`/api/v1/circles/${this.data.id}/`)
        const access = circle.access || {}
        /** @type {Record<string, any>} */
        const next = {
          loading: false,
          name: circle.name,
          intro: circle.intro || '',
          canRead: !!access.can_read,
          canPost: !!access.can_post,
          reason: access.reason || '',
          rulesPending: !!access.rules_pending,
          rules: circle.rules || '',
          rulesVersion: circle.rules_version,
          trialDays: circle.trial_days || 0,
          price: circle.price && circle.price.amount_fen ? yuan(circle.price.amount_fen) : '',
          renewalDue: !!circle.renewal_due,
          guests: (circle.guests || []).map((/** @type {any} */ g) => ({id: g.id, nickname: g.nickname})),
          qaPriceFen: circle.qa_price_fen || 0,
          qaPrice: circle.qa_price_fen ? yuan(circle.qa_price_fen) : '',
          posts: [],
        }
        if (access.can_read) {
          const feed = await api.get(`/api/v1/circles/${this.data.id}/posts/`)
          next.posts = feed.results.map(postRow)
        }
        this.setData(next)
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '圈子不存在' : error.message || '加载失败'})
      }
    },
    /** Free trial (POST …/trial/), once per member. */
    async startTrial() {
      try {
        await api.post(`/api/v1/circles/${this.data.id}/trial/`, {})
        this.setData({notice: `已开始 ${this.data.trialDays} 天试用`})
        return this.load()
      } catch (error) {
        this.setData({notice: error.message || '试用失败'})
        return null
      }
    },
    /** Join, or renew when the time is ending: the same item (the server prices the renewal band). */
    async join() {
      const renewing = this.data.canRead
      const result = await pay.checkout('circle', this.data.id)
      this.setData({notice: result.state === 'paid' ? (renewing ? '已续费' : '已加入圈子') : result.message || ''})
      if (result.state === 'paid') await this.load()
      return result
    },
    async acceptRules() {
      try {
        await api.post(`/api/v1/circles/${this.data.id}/rules/accept/`, {version: this.data.rulesVersion})
        return this.load()
      } catch (error) {
        this.setData({notice: error.message || '操作失败'})
        return null
      }
    },
    /** @param {any} event */
    onInput(event) {
      this.setData({draft: event.detail.value})
    },
    async pickImage() {
      try {
        const image = await chooseImage()
        if (image) this.setData({image: image.path})
      } catch (error) {
        this.setData({notice: error.message})
      }
    },
    removeImage() {
      this.setData({image: ''})
    },
    async publish() {
      const body = this.data.draft.trim()
      if (!body || this.data.busy) {
        if (!body) this.setData({notice: '写点什么再发布吧'})
        return null
      }
      this.setData({busy: true, notice: ''})
      try {
        const path = `/api/v1/circles/${this.data.id}/posts/`
        const post = this.data.image
          ? await api.upload(path, {filePath: this.data.image, name: 'images', formData: {kind: 'talk', body}})
          : await api.post(path, {kind: 'talk', body})
        this.setData({
          busy: false,
          draft: '',
          image: '',
          notice: post.status === 'visible' ? '发布成功' : '已提交，审核通过后展示',
          posts: [postRow(post)].concat(this.data.posts),
        })
        return post
      } catch (error) {
        this.setData({busy: false, notice: error.message || '发布失败'})
        return null
      }
    },
    /** @param {any} event */
    like(event) {
      return this.toggleLike(Number(event.currentTarget.dataset.id))
    },
    /** @param {number} postId */
    async toggleLike(postId) {
      const post = this.data.posts.find(p => p.id === postId)
      if (!post) return null
      try {
        const result = await api.request(`/api/v1/circles/posts/${postId}/like/`, {method: post.liked ? 'DELETE' : 'POST'})
        this.setData({
          posts: this.data.posts.map(p => (p.id === postId ? {...p, liked: result.liked, likes: result.like_count} : p)),
        })
        return result
      } catch (error) {
        this.setData({notice: error.message || '操作失败'})
        return null
      }
    },
    /** @param {any} event */
    openPost(event) {
      wx.navigateTo({url: `/pkg-community/post/index?id=${event.currentTarget.dataset.id}&circle=${this.data.id}`})
    },
    /** @param {any} event */
    onGuest(event) {
      this.setData({guestIndex: Number(event.detail.value)})
    },
    /** @param {any} event */
    onQuestion(event) {
      this.setData({question: event.detail.value})
    },
    /** 付费提问: create the question for the chosen guest, then pay it. */
    async ask() {
      const body = this.data.question.trim()
      const guest = this.data.guests[this.data.guestIndex]
      if (!body || !guest) {
        this.setData({notice: '请选择嘉宾并写下问题'})
        return null
      }
      if (this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        const question = await api.post(`/api/v1/circles/${this.data.id}/questions/`, {guest_id: guest.id, body})
        const result = await pay.checkout(question.item_type, question.id)
        const paid = result.state === 'paid'
        this.setData({busy: false, question: paid ? '' : body, notice: paid ? `已向 ${guest.nickname} 提问，回答后会通知你` : result.message || ''})
        return result
      } catch (error) {
        this.setData({busy: false, notice: error.message || '提问失败'})
        return null
      }
    },
    openQuestions() {
      wx.navigateTo({url: '/pkg-community/questions/index'})
    },
    onShareAppMessage() {
      return {title: this.data.name, path: sharePath('/pkg-community/circle/index', storage.getMyCode(), {id: this.data.id})}
    },
  },
})
