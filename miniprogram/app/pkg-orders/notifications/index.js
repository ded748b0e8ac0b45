// @ts-check
/** 消息通知: GET /api/v1/notifications/ (newest first, with the unread count); read one or all. */
const api = require('../../utils/api')
const {date} = require('../../utils/format')

Component({
  data: {loading: true, error: '', unread: 0, items: /** @type {any[]} */ ([])},
  methods: {
    onLoad() {
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const page = await api.get('/api/v1/notifications/')
        this.setData({
          loading: false,
          unread: page.unread_count,
          items: page.results.map((/** @type {any} */ n) => ({
            id: n.id,
            title: n.title,
            body: n.body,
            read: n.read,
            created: date(n.created_at),
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      return this.markRead(Number(event.currentTarget.dataset.id))
    },
    /** @param {number} id */
    async markRead(id) {
      const item = this.data.items.find(n => n.id === id)
      if (!item || item.read) return null
      try {
        await api.post(`/api/v1/notifications/${id}/read/`, {})
        this.setData({
          unread: Math.max(0, this.data.unread - 1),
          items: this.data.items.map(n => (n.id === id ? {...n, read: true} : n)),
        })
      } catch (error) {
        api.showError(error)
      }
      return null
    },
    async readAll() {
      try {
        const result = await api.post('/api/v1/notifications/read-all/', {})
        this.setData({unread: result.unread_count, items: this.data.items.map(n => ({...n, read: true}))})
      } catch (error) {
        api.showError(error)
      }
    },
  },
})
