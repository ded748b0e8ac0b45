// @ts-check
/**
 * 训练营一期: today's task, my check-in today, streak, and the check-in form (text, optionally one image
 * sent with wx.uploadFile as multipart field `images`). Tier-included and free terms are joined here;
 * paid ones go through checkout.
 *
 * 补卡: the calendar (GET …/calendar/) marks the past days still open for a make-up (`makeup`); choosing
 * one points the same form at that day's task (POST …/checkins/ with its task_id), while makeups_left
 * lasts. Links: 排行榜, 成就海报 (saved to the album) and, once completed, 结营证书.
 *
 * The daily reminder is a one-time subscribe message: joining and each check-in (the taps that want
 * tomorrow's reminder) ask for the camp's `checkin_reminder` template first (utils/subscribe.js).
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {chooseImage} = require('../../utils/media')
const subscribe = require('../../utils/subscribe')

Component({
  data: {
    loading: true,
    error: '',
    term: 0,
    campId: 0,
    title: '',
    state: '',
    stateMessage: '',
    canView: false,
    day: 0,
    task: /** @type {null | {id: number, title: string, body: string, requiresImage: boolean}} */ (null),
    checkedIn: /** @type {null | {text: string, images: string[], status: string, points: number}} */ (null),
    streak: 0,
    checkinDays: 0,
    points: 0,
    rank: 0,
    completed: false,
    makeupsLeft: 0,
    makeupDays: /** @type {{id: number, day: number, date: string, title: string, body: string, requiresImage: boolean}[]} */ ([]),
    makeup: /** @type {null | {id: number, day: number, date: string, title: string, body: string, requiresImage: boolean}} */ (null),
    text: '',
    image: '',
    notice: '',
    busy: false,
    subscribeIds: /** @type {string[]} */ ([]),
  },
  methods: {
    /** @param {{term?: string}} query */
    onLoad(query) {
      this.setData({term: Number((query && query.term) || 0)})
      subscribe.templateIds(['checkin_reminder']).then(ids => this.setData({subscribeIds: ids}))
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const term = await api.get(`/api/v1/camps/terms/${this.data.term}/`)
        const task = term.today_task
        const mine = term.my_checkin_today
        this.setData({
          loading: false,
          campId: term.camp_id,
          title: `${term.camp_title} · ${term.name}`,
          state: term.access.state,
          stateMessage: term.access.message,
          canView: !!term.access.can_view,
          day: term.day || 0,
          task: task ? {id: task.id, title: task.title, body: task.body, requiresImage: !!task.requires_image} : null,
          checkedIn: mine ? {text: mine.text, images: mine.images || [], status: mine.status, points: mine.points_awarded} : null,
          streak: term.seat ? term.seat.streak : 0,
          checkinDays: term.seat ? term.seat.checkin_days : 0,
          points: term.seat ? term.seat.points : 0,
          rank: term.seat ? term.seat.rank || 0 : 0,
          completed: !!(term.seat && term.seat.completed),
          makeupsLeft: term.seat ? term.seat.makeups_left : 0,
        })
        if (term.access.state === 'joined' && term.seat && term.seat.makeups_left > 0) await this.loadMakeups()
        else this.setData({makeupDays: [], makeup: null})
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '训练营不存在' : error.message || '加载失败'})
      }
    },
    /** Past days still open for a make-up (补卡). A failure here leaves today's check-in usable. */
    async loadMakeups() {
      try {
        const days = await api.get(`/api/v1/camps/terms/${this.data.term}/calendar/`)
        const makeupDays = days
          .filter((/** @type {any} */ d) => d.state === 'makeup' && d.task)
          .map((/** @type {any} */ d) => ({
            id: d.task.id,
            day: d.day,
            date: d.date,
            title: d.task.title,
            body: d.task.body,
            requiresImage: !!d.task.requires_image,
          }))
        const makeup = this.data.makeup && makeupDays.find(d => d.id === (this.data.makeup || {id: 0}).id)
        this.setData({makeupDays, makeup: makeup || null})
      } catch (error) {
        this.setData({makeupDays: [], makeup: null})
      }
    },
    /** @param {any} event */
    chooseMakeup(event) {
      const id = Number(event.currentTarget.dataset.id)
      const makeup = this.data.makeupDays.find(d => d.id === id) || null
      this.setData({makeup, notice: makeup ? `补卡：第 ${makeup.day} 天（${makeup.date}）` : ''})
    },
    cancelMakeup() {
      this.setData({makeup: null, notice: ''})
    },
    leaderboard() {
      wx.navigateTo({url: `/pkg-learning/leaderboard/index?term=${this.data.term}`})
    },
    poster() {
      wx.navigateTo({url: `/pkg-learning/poster/index?kind=poster&term=${this.data.term}`})
    },
    certificate() {
      wx.navigateTo({url: `/pkg-learning/poster/index?kind=certificate&term=${this.data.term}`})
    },
    async join() {
      await subscribe.ask(this.data.subscribeIds) // first, while the tap still counts
      this.setData({busy: true, notice: ''})
      try {
        if (this.data.state === 'buy') {
          const result = await pay.checkout('camp', this.data.campId)
          if (result.state !== 'paid') {
            this.setData({busy: false, notice: result.message || ''})
            return result
          }
        } else {
          await api.post(`/api/v1/camps/terms/${this.data.term}/join/`, {})
        }
        this.setData({busy: false, notice: '已加入'})
        await this.load()
        return {state: 'joined'}
      } catch (error) {
        this.setData({busy: false, notice: error.message || '加入失败'})
        return null
      }
    },
    /** @param {any} event */
    onInput(event) {
      this.setData({text: event.detail.value})
    },
    async pickImage() {
      try {
        const image = await chooseImage()
        if (image) this.setData({image: image.path})
      } catch (error) {
        this.setData({notice: error.message})
      }
    },
    /** Today's check-in, or the make-up of the chosen past day. */
    async checkIn() {
      const makeup = this.data.makeup
      const task = makeup || (this.data.checkedIn ? null : this.data.task)
      if (!task || this.data.busy) return null
      const text = this.data.text.trim()
      if (!text) {
        this.setData({notice: '写下今天的收获再打卡'})
        return null
      }
      if (task.requiresImage && !this.data.image) {
        this.setData({notice: '今天的任务需要上传图片'})
        return null
      }
      await subscribe.ask(this.data.subscribeIds) // tomorrow's reminder
      this.setData({busy: true, notice: ''})
      try {
        const path = `/api/v1/camps/terms/${this.data.term}/checkins/`
        const created = this.data.image
          ? await api.upload(path, {filePath: this.data.image, name: 'images', formData: {task_id: task.id, text}})
          : await api.post(path, {task_id: task.id, text})
        const done = makeup ? `补卡成功（第 ${makeup.day} 天）` : '打卡成功'
        this.setData({busy: false, text: '', image: '', makeup: null, notice: `${done}，获得 ${created.points_awarded} 积分`})
        await this.load()
        return created
      } catch (error) {
        this.setData({busy: false, notice: error.message || '打卡失败'})
        return null
      }
    },
  },
})
