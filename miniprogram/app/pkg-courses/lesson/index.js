// @ts-check
/**
 * 课时: GET /api/v1/lessons/{id}/ (row 8; 403 not_entitled → how to unlock) and progress reporting to
 * POST /api/v1/lessons/{id}/progress/ (row 13): every 15 s of playback, on pause, on end and on leaving.
 * The server decides "learned" from watched time; `completed` from the client is only a hint.
 */
const api = require('../../utils/api')

const REPORT_EVERY_SECONDS = 15

Component({
  data: {
    loading: true,
    error: '',
    locked: false,
    id: 0,
    courseId: 0,
    title: '',
    kind: '',
    body: '',
    mediaUrl: '',
    startAt: 0,
    completed: false,
    nextId: 0,
  },
  methods: {
    /** @param {{id?: string}} query */
    onLoad(query) {
      const self = /** @type {any} */ (this)
      self.position = 0
      self.reportedAt = 0
      this.setData({id: Number((query && query.id) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: '', locked: false})
      const self = /** @type {any} */ (this)
      try {
        const lesson = await api.get(`/api/v1/lessons/${this.data.id}/`)
        this.setData({
          loading: false,
          courseId: lesson.course_id,
          title: lesson.title,
          kind: lesson.kind,
          body: lesson.body || '',
          mediaUrl: lesson.media_url || '',
          startAt: lesson.position_seconds || 0,
          completed: !!lesson.completed,
          nextId: lesson.next_id || 0,
        })
        self.position = lesson.position_seconds || 0
        self.reportedAt = self.position
        if (lesson.kind === 'audio' && lesson.media_url) this.startAudio(lesson.media_url, lesson.position_seconds || 0)
      } catch (error) {
        if (error.code === 'not_entitled') this.setData({loading: false, locked: true, error: '本课时需要开通会员或购买课程后学习'})
        else this.setData({loading: false, error: error.status === 404 ? '课时不存在' : error.message || '加载失败'})
      }
    },
    /** @param {string} src @param {number} start */
    startAudio(src, start) {
      const audio = wx.createInnerAudioContext()
      audio.src = src
      audio.startTime = start
      audio.onTimeUpdate(() => this.onTime(audio.currentTime))
      audio.onPause(() => this.report(false))
      audio.onEnded(() => this.report(true))
      const self = /** @type {any} */ (this)
      self.audio = audio
    },
    playAudio() {
      const audio = /** @type {any} */ (this).audio
      if (audio) audio.play()
    },
    pauseAudio() {
      const audio = /** @type {any} */ (this).audio
      if (audio) audio.pause()
    },
    /** video bindtimeupdate @param {any} event */
    onVideoTime(event) {
      this.onTime(event.detail.currentTime)
    },
    onVideoPause() {
      return this.report(false)
    },
    onVideoEnded() {
      return this.report(true)
    },
    /** @param {number} seconds */
    onTime(seconds) {
      const self = /** @type {any} */ (this)
      self.position = Math.floor(seconds)
      if (self.position - self.reportedAt >= REPORT_EVERY_SECONDS) this.report(false)
    },
    /**
     * @param {boolean} ended
     * @returns {Promise<any>}
     */
    async report(ended) {
      const self = /** @type {any} */ (this)
      if (this.data.locked || !this.data.courseId) return null
      self.reportedAt = self.position
      try {
        const result = await api.post(`/api/v1/lessons/${this.data.id}/progress/`, {
          position_seconds: self.position,
          ...(ended ? {completed: true} : {}),
        })
        if (result.completed && !this.data.completed) this.setData({completed: true})
        return result
      } catch (error) {
        return null // progress is best effort: the next report carries the position again
      }
    },
    /** For text lessons: reading to the end reports it. */
    finishReading() {
      return this.report(true)
    },
    onHide() {
      return this.report(false)
    },
    onUnload() {
      const audio = /** @type {any} */ (this).audio
      if (audio) audio.destroy()
      return this.report(false)
    },
    goNext() {
      wx.redirectTo({url: `/pkg-courses/lesson/index?id=${this.data.nextId}`})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
  },
})
