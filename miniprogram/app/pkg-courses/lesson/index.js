// @ts-check
/**
 * 课时: GET /api/v1/lessons/{id}/ (row 8; 403 not_entitled → how to unlock; 403 lesson_not_released →
 * the member holds the course and the drip opens this lesson at `unlocks_at`: say when, sell nothing), the lesson's quiz
 * (GET …/quiz/, 404 when it has none; answers to POST …/quiz/attempts/, graded on the server) and
 * progress the server vouches for: playing opens a playback session (POST …/playback/), then a
 * heartbeat (POST …/heartbeat/ with the session, the position and the playback rate) goes after every
 * 15 s of playback, on a seek (where the player was, then where it is), on pause, on end and on
 * leaving. The server credits only what real time allows; when another device starts playing the
 * lesson, this one is told so (409 playback_superseded) and stops reporting until played again.
 * A text lesson opens its reading clock on load; "我读完了" (row 13's completed: true) is accepted by
 * the server once the reading time has passed (else 409 reading_too_short, shown as it says).
 * Playback resumes where the member left off (position_seconds: the video's initial-time, the audio's
 * startTime).
 *
 * Protected media (`playback`: an AES-128 HLS playlist signed for this member, valid for minutes) plays
 * in the <video> — audio too, since the audio context does not play HLS everywhere — under a
 * `cover-view` watermark (member number and short nickname) that moves every few seconds; that
 * <video>'s play, time, pause and end events send the heartbeats as any other player's do.
 */
const api = require('../../utils/api')
const {clock, dateTime} = require('../../utils/format')

const REPORT_EVERY_SECONDS = 15
const SEEK_SECONDS = 3 // a jump of more than this between two time updates is a seek
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
    duration: 0,
    resumeText: '',
    positionText: '',
    durationText: '',
    playing: false,
    completed: false,
    watchedText: '',
    superseded: false,
    readingText: '',
    nextId: 0,
    quiz: /** @type {any} */ (null),
    quizResult: '',
    quizError: '',
  },
  methods: {
    /** @param {{id?: string}} query */
    onLoad(query) {
      const self = /** @type {any} */ (this)
      self.position = 0
      self.reportedAt = 0
      self.session = ''
      self.queue = Promise.resolve(null)
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
          duration: lesson.duration_seconds || 0,
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
        if (lesson.kind === 'text') await this.startSession() // the reading clock starts when the text opens
        await this.loadQuiz()
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
    /** A playback session (media) or the reading clock (text); best effort. */
    async startSession() {
      const self = /** @type {any} */ (this)
      try {
        const body = this.data.kind === 'text' ? {} : {position_seconds: self.position}
        const started = await api.post(`/api/v1/lessons/${this.data.id}/playback/`, body)
        self.session = started.session_id
        self.reportedAt = self.position
        this.setData({superseded: false, completed: !!started.completed || this.data.completed})
        return started
      } catch (error) {
        return null
      }
    },
    /** @param {string} src @param {number} start */
    startAudio(src, start) {
      const audio = wx.createInnerAudioContext()
      audio.src = src
      audio.startTime = start
      audio.onTimeUpdate(() => this.onTime(audio.currentTime))
      audio.onPlay(() => {
        this.setData({playing: true})
        this.playing()
      })
      audio.onPause(() => {
        this.setData({playing: false})
        this.report()
      })
      audio.onStop(() => {
        this.setData({playing: false})
        this.report()
      })
      audio.onEnded(() => {
        this.setData({playing: false})
        this.report(this.data.duration || undefined)
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
    /** Play pressed: a session first; a resumed one reports where it starts again. */
    playing() {
      const self = /** @type {any} */ (this)
      if (!self.session) {
        self.queue = self.queue.then(() => this.startSession())
        return self.queue
      }
      return this.report()
    },
    onVideoPlay() {
      return this.playing()
    },
    /** video bindtimeupdate @param {any} event */
    onVideoTime(event) {
      this.onTime(event.detail.currentTime)
    },
    onVideoPause() {
      return this.report()
    },
    onVideoEnded() {
      return this.report(this.data.duration || undefined)
    },
    /** @param {number} seconds */
    onTime(seconds) {
      const self = /** @type {any} */ (this)
      const position = Math.floor(seconds)
      if (position === self.position) return
      const before = self.position
      self.position = position
      if (this.data.kind === 'audio') this.setData({positionText: clock(position)})
      if (Math.abs(position - before) > SEEK_SECONDS) {
        // a seek: where the player was (what was watched up to it), then where it is now
        this.report(before)
        this.report(position)
      } else if (Math.abs(position - self.reportedAt) >= REPORT_EVERY_SECONDS) {
        this.report(position)
      }
    },
    /**
     * One heartbeat, after the ones before it.
     * @param {number} [at] the position to report (default: the current one)
     * @returns {Promise<any>}
     */
    report(at) {
      const self = /** @type {any} */ (this)
      const position = at === undefined ? self.position : at
      self.reportedAt = position
      self.queue = self.queue.then(() => this.heartbeat(position))
      return self.queue
    },
    /** @param {number} position */
    async heartbeat(position) {
      const self = /** @type {any} */ (this)
      if (this.data.locked || !self.session) return null
      try {
        const result = await api.post(`/api/v1/lessons/${this.data.id}/heartbeat/`, {
          session_id: self.session,
          position_seconds: position,
          playback_rate: 1,
        })
        this.setData({completed: result.completed || this.data.completed, watchedText: `已真实观看 ${result.watched_percent}%`})
        return result
      } catch (error) {
        if (error.code === 'playback_superseded') {
          self.session = ''
          this.setData({superseded: true})
          this.pauseAudio()
        } else if (error.code === 'playback_session_unknown') {
          self.session = ''
        }
        return null // best effort: the next heartbeat carries the position again
      }
    },
    /** For text lessons: the server accepts it once the reading time has passed. */
    async finishReading() {
      try {
        const result = await api.post(`/api/v1/lessons/${this.data.id}/progress/`, {position_seconds: 0, completed: true})
        this.setData({completed: !!result.completed, readingText: ''})
        return result
      } catch (error) {
        this.setData({readingText: error.message || '请稍后再试'})
        return null
      }
    },
    /** Leaving (another app, the home screen, or back): report only if the position moved. */
    leaving() {
      const self = /** @type {any} */ (this)
      if (this.data.kind === 'text' || !self.session || self.position === self.reportedAt) return Promise.resolve(null)
      return this.report()
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
    async loadQuiz() {
      try {
        const quiz = await api.get(`/api/v1/lessons/${this.data.id}/quiz/`)
        const questions = quiz.questions.map((/** @type {any} */ q) => ({
          ...q,
          options: q.options.map((/** @type {any} */ o) => ({...o, chosen: false})),
        }))
        const left = quiz.attempts_left === null ? '' : ` · 还可作答 ${quiz.attempts_left} 次`
        this.setData({
          quiz: {
            questions,
            passPercent: quiz.pass_percent,
            heading: quiz.title || '课后测验',
            rule: `及格线 ${quiz.pass_percent}%${left}`,
            canAttempt: quiz.can_attempt,
            passed: quiz.passed,
          },
          quizError: '',
        })
      } catch (error) {
        this.setData({quiz: null}) // 404 no_quiz: the lesson has none
      }
    },
    /** @param {any} event tap on an option: single choice replaces, multiple choice toggles */
    chooseOption(event) {
      const {question, option} = event.currentTarget.dataset
      const quiz = this.data.quiz
      if (!quiz) return
      const questions = quiz.questions.map((/** @type {any} */ q) => {
        if (q.id !== Number(question)) return q
        const options = q.options.map((/** @type {any} */ o) => {
          const tapped = o.id === Number(option)
          return {...o, chosen: q.kind === 'multiple' ? (tapped ? !o.chosen : o.chosen) : tapped}
        })
        return {...q, options}
      })
      this.setData({quiz: {...quiz, questions}})
    },
    async submitQuiz() {
      const quiz = this.data.quiz
      if (!quiz) return null
      const answers = quiz.questions.map((/** @type {any} */ q) => ({
        question_id: q.id,
        option_ids: q.options.filter((/** @type {any} */ o) => o.chosen).map((/** @type {any} */ o) => o.id),
      }))
      if (answers.some((/** @type {any} */ a) => !a.option_ids.length)) {
        this.setData({quizError: '请回答全部题目后再提交'})
        return null
      }
      try {
        const result = await api.post(`/api/v1/lessons/${this.data.id}/quiz/attempts/`, {answers})
        const verdict = result.passed ? '已通过' : `未通过（及格线 ${quiz.passPercent}%）`
        this.setData({quizResult: `得分 ${result.score_percent}%，${verdict}`, quizError: ''})
        await this.loadQuiz()
        return result
      } catch (error) {
        this.setData({quizError: error.message || '提交失败'})
        return null
      }
    },
    goNext() {
      wx.redirectTo({url: `/pkg-courses/lesson/index?id=${this.data.nextId}`})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
  },
})
