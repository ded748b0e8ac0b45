// @ts-check
/**
 * 帖子: the post and its comments; comment, delete one's own comment, like, and tip the author (打赏:
 * POST /api/v1/circles/tips/ creates the item, paid like any order through utils/pay.js).
 * A post deleted since it was shared says so and offers the way back to its circle (shares carry `circle`).
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {date, yuan} = require('../../utils/format')
const storage = require('../../utils/storage')
const {sharePath} = require('../../utils/referral')

/** @param {any} c @param {number} myId */
function commentRow(c, myId) {
  return {
    id: c.id,
    author: c.author ? c.author.nickname : '',
    body: c.body,
    created: date(c.created_at),
    mine: !!(c.author && myId && c.author.id === myId),
    pending: c.status !== 'visible',
  }
}

Component({
  data: {
    loading: true,
    error: '',
    gone: false,
    id: 0,
    circleId: 0,
    author: '',
    authorId: 0,
    title: '',
    body: '',
    images: /** @type {string[]} */ ([]),
    likes: 0,
    liked: false,
    tipCount: 0,
    tipTotal: '',
    comments: /** @type {any[]} */ ([]),
    draft: '',
    notice: '',
    busy: false,
  },
  methods: {
    /** @param {{id?: string, circle?: string}} query */
    onLoad(query) {
      this.setData({id: Number((query && query.id) || 0), circleId: Number((query && query.circle) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: '', gone: false})
      try {
        const post = await api.get(`/api/v1/circles/posts/${this.data.id}/`)
        const comments = await api.get(`/api/v1/circles/posts/${this.data.id}/comments/`)
        const me = storage.getUser()
        const myId = me ? me.id : 0
        this.setData({
          loading: false,
          circleId: post.circle_id,
          author: post.author ? post.author.nickname : '',
          authorId: post.author ? post.author.id : 0,
          title: post.title || '',
          body: post.body,
          images: post.images || [],
          likes: post.like_count,
          liked: !!post.liked_by_me,
          tipCount: post.tip_count || 0,
          tipTotal: post.tip_total_fen ? yuan(post.tip_total_fen) : '',
          comments: comments.results.map((/** @type {any} */ c) => commentRow(c, myId)),
        })
      } catch (error) {
        const gone = error.status === 404
        this.setData({loading: false, gone, error: gone ? '这条内容已被删除或不可见' : error.message || '加载失败'})
      }
    },
    /** From a stale share: to the post's circle when the link named it, else to the circle list. */
    backToCircle() {
      const url = this.data.circleId ? `/pkg-community/circle/index?id=${this.data.circleId}` : '/pkg-community/circles/index'
      wx.redirectTo({url})
    },
    /** @param {any} event */
    onInput(event) {
      this.setData({draft: event.detail.value})
    },
    async comment() {
      const body = this.data.draft.trim()
      if (!body || this.data.busy) return null
      this.setData({busy: true})
      try {
        const created = await api.post(`/api/v1/circles/posts/${this.data.id}/comments/`, {body})
        const me = storage.getUser()
        this.setData({
          busy: false,
          draft: '',
          notice: created.status === 'visible' ? '' : '评论已提交，审核通过后展示',
          comments: this.data.comments.concat([commentRow(created, me ? me.id : 0)]),
        })
        return created
      } catch (error) {
        this.setData({busy: false, notice: error.message || '评论失败'})
        return null
      }
    },
    /** @param {any} event */
    askDelete(event) {
      const id = Number(event.currentTarget.dataset.id)
      wx.showModal({
        title: '删除评论',
        content: '删除后不可恢复，回复也会一并删除',
        confirmText: '删除',
        confirmColor: '#fa5151',
        success: res => {
          if (res.confirm) this.deleteComment(id)
        },
      })
    },
    /** DELETE /api/v1/circles/comments/{id}/ (the author's own; the server checks). @param {number} id */
    async deleteComment(id) {
      try {
        await api.del(`/api/v1/circles/comments/${id}/`)
        this.setData({comments: this.data.comments.filter(c => c.id !== id), notice: '评论已删除'})
        return true
      } catch (error) {
        this.setData({notice: error.message || '删除失败'})
        return false
      }
    },
    async toggleLike() {
      try {
        const result = await api.request(`/api/v1/circles/posts/${this.data.id}/like/`, {method: this.data.liked ? 'DELETE' : 'POST'})
        this.setData({liked: result.liked, likes: result.like_count})
        return result
      } catch (error) {
        this.setData({notice: error.message || '操作失败'})
        return null
      }
    },
    /** 打赏: the presets of GET /circles/tips/options/ in an action sheet, then tip(). */
    async chooseTip() {
      let options
      try {
        options = await api.get('/api/v1/circles/tips/options/')
      } catch (error) {
        this.setData({notice: error.message || '加载失败'})
        return null
      }
      /** @type {number[]} */
      const presets = (options.presets_fen || []).filter((/** @type {number} */ f) => f >= options.min_fen && f <= options.max_fen).slice(0, 6)
      if (!presets.length) return null
      const index = await new Promise(resolve => {
        wx.showActionSheet({
          itemList: presets.map(f => `打赏 ${yuan(f)}`),
          success: res => resolve(res.tapIndex),
          fail: () => resolve(-1),
        })
      })
      return index >= 0 ? this.tip(presets[index]) : null
    },
    /** POST /api/v1/circles/tips/ then pay it (item_type tip). @param {number} amountFen */
    async tip(amountFen) {
      if (this.data.busy) return null
      this.setData({busy: true, notice: ''})
      try {
        const intent = await api.post('/api/v1/circles/tips/', {post_id: this.data.id, amount_fen: amountFen})
        const result = await pay.checkout(intent.item_type, intent.item_id)
        this.setData({busy: false, notice: result.state === 'paid' ? `已打赏 ${yuan(amountFen)}，谢谢支持` : result.message || ''})
        if (result.state === 'paid') await this.load()
        return result
      } catch (error) {
        this.setData({busy: false, notice: error.message || '打赏失败'})
        return null
      }
    },
    onShareAppMessage() {
      return {
        title: this.data.title || this.data.body.slice(0, 30),
        path: sharePath('/pkg-community/post/index', storage.getMyCode(), {id: this.data.id, circle: this.data.circleId}),
      }
    },
  },
})
