// @ts-check
/** 帖子: the post (a deleted one opened from a stale share says so), its comments, and replying. */
const api = require('../../utils/api')
const {date} = require('../../utils/format')
const storage = require('../../utils/storage')
const {sharePath} = require('../../utils/referral')

Component({
  data: {
    loading: true,
    error: '',
    id: 0,
    author: '',
    body: '',
    images: /** @type {string[]} */ ([]),
    likes: 0,
    liked: false,
    comments: /** @type {any[]} */ ([]),
    draft: '',
    notice: '',
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
        const post = await api.get(`/api/v1/circles/posts/${this.data.id}/`)
        const comments = await api.get(`/api/v1/circles/posts/${this.data.id}/comments/`)
        this.setData({
          loading: false,
          author: post.author ? post.author.nickname : '',
          body: post.body,
          images: post.images || [],
          likes: post.like_count,
          liked: !!post.liked_by_me,
          comments: comments.results.map((/** @type {any} */ c) => ({
            id: c.id,
            author: c.author ? c.author.nickname : '',
            body: c.body,
            created: date(c.created_at),
          })),
        })
      } catch (error) {
        const gone = error.status === 404
        this.setData({loading: false, error: gone ? '这条内容已被删除或不可见' : error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    onInput(event) {
      this.setData({draft: event.detail.value})
    },
    async comment() {
      const body = this.data.draft.trim()
      if (!body) return null
      try {
        const created = await api.post(`/api/v1/circles/posts/${this.data.id}/comments/`, {body})
        this.setData({
          draft: '',
          notice: created.status === 'visible' ? '' : '评论已提交，审核通过后展示',
          comments: this.data.comments.concat([{id: created.id, author: created.author.nickname, body: created.body, created: date(created.created_at)}]),
        })
        return created
      } catch (error) {
        this.setData({notice: error.message || '评论失败'})
        return null
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
    onShareAppMessage() {
      return {title: this.data.body.slice(0, 30), path: sharePath('/pkg-community/post/index', storage.getMyCode(), {id: this.data.id})}
    },
  },
})
