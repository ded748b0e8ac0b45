// @ts-check
/**
 * 我的问答: paid questions I asked and those I must answer as a guest (GET /api/v1/circles/questions/);
 * a guest answers an open question here (POST /api/v1/circles/questions/{id}/answer/), which releases the fee.
 */
const api = require('../../utils/api')
const {yuan, date} = require('../../utils/format')
const storage = require('../../utils/storage')

const STATUS = {
  created: '待支付',
  open: '待回答',
  answer_review: '回答审核中',
  answered: '已回答',
  expired: '已过期退款',
  refunded: '已退款',
}

Component({
  data: {
    loading: true,
    error: '',
    questions: /** @type {any[]} */ ([]),
    drafts: /** @type {Record<string, string>} */ ({}),
    notice: '',
    busy: false,
  },
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const page = await api.get('/api/v1/circles/questions/')
        const me = storage.getUser()
        const myId = me ? me.id : 0
        this.setData({
          loading: false,
          questions: page.results.map((/** @type {any} */ q) => {
            const toAnswer = q.guest && q.guest.id === myId
            return {
              id: q.id,
              body: q.body,
              price: yuan(q.price_fen),
              status: /** @type {Record<string, string>} */ (STATUS)[q.status] || q.status,
              who: toAnswer ? `${q.asker.nickname} 问我` : `我问 ${q.guest.nickname}`,
              deadline: date(q.deadline),
              canAnswer: toAnswer && q.status === 'open',
              answerPostId: q.answer_post_id,
              circleId: q.circle_id,
            }
          }),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    onDraft(event) {
      this.setData({[`drafts.${event.currentTarget.dataset.id}`]: event.detail.value})
    },
    /** @param {any} event */
    submit(event) {
      const id = Number(event.currentTarget.dataset.id)
      return this.answer(id, this.data.drafts[String(id)] || '')
    },
    /** @param {number} id @param {string} text */
    async answer(id, text) {
      const body = text.trim()
      if (!body) {
        this.setData({notice: '请先写下回答'})
        return null
      }
      if (this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        const question = await api.post(`/api/v1/circles/questions/${id}/answer/`, {body})
        this.setData({busy: false, notice: question.status === 'answered' ? '回答已发布' : '回答已提交，审核通过后发布'})
        await this.load()
        return question
      } catch (error) {
        this.setData({busy: false, notice: error.message || '回答失败'})
        return null
      }
    },
    /** @param {any} event */
    openAnswer(event) {
      const {post, circle} = event.currentTarget.dataset
      wx.navigateTo({url: `/pkg-community/post/index?id=${post}&circle=${circle}`})
    },
  },
})
