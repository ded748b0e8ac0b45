// @ts-check
/**
 * 课时: GET /api/v1/lessons/{id}/ (row 8; 403 not_entitled → how to unlock; 403 lesson_not_released →
 * the member holds the course and the drip opens this lesson at `unlocks_at`: say when, sell nothing) and progress reporting to
 * POST /api/v1/lessons/{id}/progress/ (row 13): every 15 s of playback (forward or after seeking back),
 * on pause, on end and on leaving (hide/unload only when the position moved since the last report).
 * Playback resumes where the member left off (position_seconds: the video's initial-time, the audio's
 * startTime). The server decides "learned" from watched time; `completed` from the client is only a hint.
 *
 * Protected media (`playback`: an AES-128 HLS playlist signed for this member, valid for minutes) plays
 * in the <video> — audio too, since the audio context does not play HLS everywhere — under a
 * `cover-view` watermark (member number and short nickname) that moves every few seconds.
 */
const api = require('../../utils/api')
const {clock, dateTime} = require('../../utils/format')

const REPORT_EVERY_SECONDS = 15
const WATERMARK_EVERY_MS = 4000

Component({
  data: {
    loading: true,
    error: '',
    locked: false,
    waiting: false,
    unlocksAt: '',
    id: 0,
    courseId: 0,
    title: '',
    kind: '',
    body: '',
    mediaUrl: '',
    useVideo: false,
    watermark: '',
    markTop: 10,
    markLeft: 8,
    startAt: 0,
    resumeText: '',
    positionText: '',
    durationText: '',
    playing: false,
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
      this.setData({loading: true, error: '', locked: false, waiting: false})
      const self = /** @type {any} */ (this)
      try {
        const lesson = await api.get(`/api/v1/lessons/${this.data.id}/`)
        const playback = lesson.playback || null
        this.setData({
          loading: false,
          courseId: lesson.course_id,
          title: lesson.title,
          kind: lesson.kind,
          body: lesson.body || '',
          mediaUrl: playback ? playback.url : lesson.media_url || '',
          useVideo: lesson.kind === 'video' || !!playback,
          watermark: playback && playback.watermark ? playback.watermark.text : '',
          startAt: lesson.position_seconds || 0,
          resumeText: lesson.position_seconds > 0 && lesson.kind !== 'text' && !lesson.completed ? `从上次的 ${clock(lesson.position_seconds)} 继续` : '',
          positionText: clock(lesson.position_seconds || 0),
          durationText: lesson.duration_seconds ? clock(lesson.duration_seconds) : '',
          completed: !!lesson.completed,
          nextId: lesson.next_id || 0,
        })
        self.position = lesson.position_seconds || 0
        self.reportedAt = self.position
        if (lesson.kind === 'audio' && lesson.media_url && !playback) this.startAudio(lesson.media_url, lesson.position_seconds || 0)
        if (this.data.watermark) this.startWatermark()
      } catch (error) {
        if (error.code === 'lesson_not_released') {
          const unlocksAt = dateTime(error.body && error.body.unlocks_at)
          this.setData({loading: false, locked: true, waiting: true, unlocksAt, error: error.message || `本课时将于 ${unlocksAt} 解锁`})
        } else if (error.code === 'not_entitled') this.setData({loading: false, locked: true, error: '本课时需要开通会员或购买课程后学习'})
        else this.setData({loading: false, error: error.status === 404 ? '课时不存在' : error.message || '加载失败'})
      }
    },
    /** The watermark moves to a random place over the video every few seconds. */
    startWatermark() {
      const self = /** @type {any} */ (this)
      this.drift()
      if (!self.markTimer) self.markTimer = setInterval(() => this.drift(), WATERMARK_EVERY_MS)
    },
    drift() {
      this.setData({markTop: Math.round(6 + Math.random() * 72), markLeft: Math.round(4 + Math.random() * 56)})
    },
    /** @param {string} src @param {number} start */
    startAudio(src, start) {
      const audio = wx.createInnerAudioContext()
      audio.src = src
      audio.startTime = start
      audio.onTimeUpdate(() => this.onTime(audio.currentTime))
      audio.onPlay(() => this.setData({playing: true}))
      audio.onPause(() => {
        this.setData({playing: false})
        this.report(false)
      })
      audio.onStop(() => {
        this.setData({playing: false})
        this.report(false)
      })
      audio.onEnded(() => {
        this.setData({playing: false})
        this.report(true)
      })
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
      const position = Math.floor(seconds)
      if (position === self.position) return
      self.position = position
      if (this.data.kind === 'audio') this.setData({positionText: clock(position)})
      // Throttled: every 15 s of playback, or after a seek (back as well as forward).
      if (Math.abs(position - self.reportedAt) >= REPORT_EVERY_SECONDS) this.report(false)
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
    /** Leaving (another app, the home screen, or back): report only if the position moved. */
    leaving() {
      const self = /** @type {any} */ (this)
      if (this.data.kind === 'text' || self.position === self.reportedAt) return Promise.resolve(null)
      return this.report(false)
    },
    onHide() {
      return this.leaving()
    },
    onUnload() {
      const self = /** @type {any} */ (this)
      if (self.markTimer) clearInterval(self.markTimer)
      self.markTimer = null
      const audio = self.audio
      if (audio) audio.destroy()
      return this.leaving()
    },
    goNext() {
      wx.redirectTo({url: `/pkg-courses/lesson/index?id=${this.data.nextId}`})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
  },
})
