// @ts-check
/** 训练营: my terms (GET /api/v1/camps/mine/) and the camps open to join (GET /api/v1/camps/). */
const api = require('../../utils/api')
const {yuan} = require('../../utils/format')

Component({
  data: {loading: true, error: '', mine: /** @type {any[]} */ ([]), camps: /** @type {any[]} */ ([])},
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [mine, camps] = await Promise.all([api.get('/api/v1/camps/mine/'), api.get('/api/v1/camps/')])
        const joined = new Set(mine.map((/** @type {any} */ t) => t.id))
        this.setData({
          loading: false,
          mine: mine.map((/** @type {any} */ t) => ({
            id: t.id,
            title: `${t.camp_title} · ${t.name}`,
            streak: t.seat ? t.seat.streak : 0,
            days: t.seat ? t.seat.checkin_days : 0,
          })),
          camps: camps.results.flatMap((/** @type {any} */ c) =>
            (c.terms || [])
              .filter((/** @type {any} */ t) => !joined.has(t.id))
              .map((/** @type {any} */ t) => ({
                id: t.id,
                title: `${c.title} · ${t.name}`,
                price: c.price_fen ? yuan(c.price_fen) : '免费',
                start: t.start_date,
              })),
          ),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-community/camp/index?term=${event.currentTarget.dataset.id}`})
    },
  },
})
