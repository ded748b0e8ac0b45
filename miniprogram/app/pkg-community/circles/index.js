// @ts-check
/** 圈子: GET /api/v1/circles/. */
const api = require('../../utils/api')
const {yuan} = require('../../utils/format')

Component({
  data: {loading: true, error: '', circles: /** @type {any[]} */ ([])},
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const page = await api.get('/api/v1/circles/')
        this.setData({
          loading: false,
          circles: page.results.map((/** @type {any} */ c) => ({
            id: c.id,
            name: c.name,
            intro: c.intro || '',
            members: c.member_count,
            price: c.price_fen ? yuan(c.price_fen) : '免费',
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    openMine() {
      wx.navigateTo({url: '/pkg-community/mine/index'})
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-community/circle/index?id=${event.currentTarget.dataset.id}`})
    },
  },
})
