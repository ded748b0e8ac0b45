// @ts-check
/** 我的圈子: the circles I own, may read, and whose membership ran out (GET /api/v1/circles/mine/). */
const api = require('../../utils/api')
const {date} = require('../../utils/format')

/** @param {any} row @param {string} state */
function circleRow(row, state) {
  const access = row.access || {}
  let label = ''
  if (state === 'owned') label = '圈主'
  else if (state === 'expired') label = '已到期 · 续费'
  else if (access.via_tier) label = '会员等级包含'
  else if (access.role === 'trial') label = `试用至 ${date(access.expires_at)}`
  else if (access.expires_at) label = `有效期至 ${date(access.expires_at)}`
  return {
    id: row.id,
    name: row.name,
    state,
    label,
    latest: row.latest_post_text || '',
    fresh: row.new_posts || 0,
  }
}

Component({
  data: {loading: true, error: '', circles: /** @type {any[]} */ ([])},
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const mine = await api.get('/api/v1/circles/mine/')
        this.setData({
          loading: false,
          circles: [
            ...mine.owned.map((/** @type {any} */ r) => circleRow(r, 'owned')),
            ...mine.joined.map((/** @type {any} */ r) => circleRow(r, 'joined')),
            ...mine.expired.map((/** @type {any} */ r) => circleRow(r, 'expired')),
          ],
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      wx.navigateTo({url: `/pkg-community/circle/index?id=${event.currentTarget.dataset.id}`})
    },
    browse() {
      wx.navigateTo({url: '/pkg-community/circles/index'})
    },
  },
})
