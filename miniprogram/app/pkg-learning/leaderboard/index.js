// @ts-check
/** 训练营排行榜: GET /api/v1/camps/terms/{id}/leaderboard/ (points, then days, then best streak) and my rank. */
const api = require('../../utils/api')
const storage = require('../../utils/storage')

Component({
  data: {
    loading: true,
    error: '',
    term: 0,
    rows: /** @type {any[]} */ ([]),
    me: /** @type {null | {rank: number | null, points: number, days: number, streak: number}} */ (null),
  },
  methods: {
    /** @param {{term?: string}} query */
    onLoad(query) {
      this.setData({term: Number((query && query.term) || 0)})
      return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const board = await api.get(`/api/v1/camps/terms/${this.data.term}/leaderboard/`)
        const user = storage.getUser()
        const myId = user ? user.id : 0
        this.setData({
          loading: false,
          rows: board.results.map((/** @type {any} */ r) => ({
            rank: r.rank,
            nickname: r.member.nickname,
            points: r.points,
            days: r.checkin_days,
            streak: r.streak,
            completed: !!r.completed,
            mine: !!myId && r.member.id === myId,
          })),
          me: board.me ? {rank: board.me.rank, points: board.me.points, days: board.me.checkin_days, streak: board.me.streak} : null,
        })
      } catch (error) {
        const message = error.code === 'not_entitled' ? '加入训练营后可查看排行榜' : error.status === 404 ? '训练营不存在' : error.message || '加载失败'
        this.setData({loading: false, error: message})
      }
    },
  },
})
