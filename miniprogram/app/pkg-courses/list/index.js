// @ts-check
/** 课程: GET /api/v1/courses/ (API.md row 7). */
const api = require('../../utils/api')
const {yuan} = require('../../utils/format')

Component({
  data: {loading: true, error: '', courses: /** @type {any[]} */ ([])},
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const page = await api.get('/api/v1/courses/')
        this.setData({
          loading: false,
          courses: page.results.map((/** @type {any} */ c) => ({
            id: c.id,
            title: c.title,
            summary: c.summary || '',
            price: c.price_fen ? yuan(c.price_fen) : '免费',
            tiers: (c.included_in_tiers || []).join('/'),
            unlocked: !!c.unlocked,
            lessons: c.lesson_count || 0,
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-courses/detail/index?id=${event.currentTarget.dataset.id}`})
    },
  },
})
