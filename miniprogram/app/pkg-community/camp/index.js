// @ts-check
/**
 * 训练营一期: today's task, my check-in today, streak, and the check-in form (text, optionally one image
 * sent with wx.uploadFile as multipart field `images`). Tier-included and free terms are joined here;
 * paid ones go through checkout.
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {chooseImage} = require('../../utils/media')

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
    text: '',
    image: '',
    notice: '',
    busy: false,
  },
  methods: {
    /** @param {{term?: string}} query */
    onLoad(query) {
      this.setData({term: Number((query && query.term) || 0)})
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
        })
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '训练营不存在' : error.message || '加载失败'})
      }
    },
    async join() {
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
    async checkIn() {
      const task = this.data.task
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
      this.setData({busy: true, notice: ''})
      try {
        const path = `/api/v1/camps/terms/${this.data.term}/checkins/`
        const created = this.data.image
          ? await api.upload(path, {filePath: this.data.image, name: 'images', formData: {task_id: task.id, text}})
          : await api.post(path, {task_id: task.id, text})
        this.setData({busy: false, text: '', image: '', notice: `打卡成功，获得 ${created.points_awarded} 积分`})
        await this.load()
        return created
      } catch (error) {
        this.setData({busy: false, notice: error.message || '打卡失败'})
        return null
      }
    },
  },
})
