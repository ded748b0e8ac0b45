// @ts-check
/** 积分与积分商城: balance and history (GET /api/v1/points/), the rewards, and redeeming one. */
const api = require('../../utils/api')
const {date} = require('../../utils/format')

Component({
  data: {
    loading: true,
    error: '',
    balance: 0,
    history: /** @type {any[]} */ ([]),
    rewards: /** @type {any[]} */ ([]),
    notice: '',
    busy: 0,
  },
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const [points, rewards] = await Promise.all([api.get('/api/v1/points/'), api.get('/api/v1/points/rewards/')])
        this.setData({
          loading: false,
          balance: points.balance,
          history: points.results.map((/** @type {any} */ e) => ({
            id: e.id,
            amount: e.amount > 0 ? `+${e.amount}` : String(e.amount),
            reason: e.reason,
            created: date(e.created_at),
          })),
          rewards: rewards.results.map((/** @type {any} */ r) => ({
            id: r.id,
            title: r.title,
            description: r.description || '',
            price: r.points_price,
            soldOut: r.stock === 0,
            affordable: r.points_price <= points.balance,
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    redeem(event) {
      return this.redeemReward(Number(event.currentTarget.dataset.id))
    },
    /** @param {number} id */
    async redeemReward(id) {
      if (this.data.busy) return null
      this.setData({busy: id, notice: ''})
      try {
        // one key per tap: a retried request returns the same redemption, never a second one
        const result = await api.post(`/api/v1/points/rewards/${id}/redeem/`, {idempotency_key: `mp-${id}-${Date.now()}`})
        this.setData({busy: 0, notice: `兑换成功，剩余 ${result.balance} 积分`})
        await this.load()
        return result
      } catch (error) {
        this.setData({busy: 0, notice: error.message || '兑换失败'})
        return null
      }
    },
  },
})
