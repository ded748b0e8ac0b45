// @ts-check
/**
 * 训练营与证书 (我的): my terms from GET /api/v1/camps/mine/ — running first, then upcoming, then ended —
 * with days checked in and the streak, and the certificates of the terms I completed
 * (seat.certificate_no; the image opens in the poster page with kind=certificate).
 */
const api = require('../../utils/api')

/** Today in China (the server's dates are Asia/Shanghai). */
function today() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10)
}

const PHASES = {running: '进行中', upcoming: '未开营', ended: '已结营'}
const ORDER = {running: 0, upcoming: 1, ended: 2}

Component({
  data: {
    loading: true,
    error: '',
    terms: /** @type {any[]} */ ([]),
    certificates: /** @type {any[]} */ ([]),
  },
  methods: {
    onLoad() {
      return this.load()
    },
    onShow() {
      if (!this.data.loading) this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const mine = await api.get('/api/v1/camps/mine/')
        const now = today()
        const terms = mine
          .map((/** @type {any} */ t) => {
            const phase = t.start_date > now ? 'upcoming' : t.end_date < now ? 'ended' : 'running'
            return {
              id: t.id,
              title: `${t.camp_title} · ${t.name}`,
              dates: `${t.start_date} 至 ${t.end_date}`,
              phase,
              phaseText: /** @type {any} */ (PHASES)[phase],
              progress: `已打卡 ${t.seat.checkin_days} / ${t.days} 天 · 连续 ${t.seat.streak} 天`,
              completed: !!t.seat.completed,
              certificateNo: t.seat.certificate_no || '',
            }
          })
          .sort((/** @type {any} */ a, /** @type {any} */ b) => /** @type {any} */ (ORDER)[a.phase] - /** @type {any} */ (ORDER)[b.phase])
        this.setData({
          loading: false,
          terms,
          certificates: terms.filter((/** @type {any} */ t) => t.certificateNo),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-community/camp/index?term=${event.currentTarget.dataset.id}`})
    },
    /** @param {any} event */
    certificate(event) {
      wx.navigateTo({url: `/pkg-learning/poster/index?kind=certificate&term=${event.currentTarget.dataset.id}`})
    },
    camps() {
      wx.navigateTo({url: '/pkg-community/camps/index'})
    },
  },
})
