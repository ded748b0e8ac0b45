// @ts-check
/**
 * 课程详情: GET /api/v1/courses/{id}/ — lessons with their lock, and how to unlock them. A lesson held by
 * the course's drip (定时解锁) carries `unlock_text` ("12月10日 解锁", "开通后第3天解锁") and, for a member
 * who holds the course, `unlocks_at`: tapping it says when it opens instead of offering to buy.
 */
const api = require('../../utils/api')
const pay = require('../../utils/pay')
const {yuan} = require('../../utils/format')

Component({
  data: {
    loading: true,
    error: '',
    id: 0,
    title: '',
    description: '',
    unlocked: false,
    accessMessage: '',
    price: '',
    tiers: '',
    completion: 0,
    lessons: /** @type {any[]} */ ([]),
    notice: '',
  },
  methods: {
    /** @param {{id?: string}} query */
    onLoad(query) {
      this.setData({id: Number((query && query.id) || 0)})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: ''})
      try {
        const course = await api.get(`/api/v1/courses/${this.data.id}/`)
        this.setData({
          loading: false,
          title: course.title,
          description: course.summary || '',
          unlocked: !!(course.access && course.access.unlocked),
          accessMessage: (course.access && course.access.message) || '',
          price: course.price_fen ? yuan(course.price_fen) : '',
          tiers: (course.included_in_tiers || []).join('/'),
          completion: course.completion_percent || 0,
          lessons: course.lessons.map((/** @type {any} */ l) => ({
            id: l.id,
            title: l.title,
            locked: l.locked,
            preview: !!l.is_preview,
            done: !!l.completed,
            waiting: !!l.unlocks_at,
            unlockText: l.unlock_text || '',
          })),
        })
      } catch (error) {
        this.setData({loading: false, error: error.status === 404 ? '课程不存在或已下架' : error.message || '加载失败'})
      }
    },
    /** @param {any} event */
    open(event) {
      const {id, locked, unlock} = event.currentTarget.dataset
      if (locked && unlock && this.data.unlocked) {
        this.setData({notice: `本课时将于${unlock}，到时即可学习`})
        return
      }
      if (locked) {
        this.setData({notice: this.data.tiers ? `开通 ${this.data.tiers} 会员即可学习` : '购买课程后即可学习'})
        return
      }
      wx.navigateTo({url: `/pkg-courses/lesson/index?id=${id}`})
    },
    join() {
      wx.switchTab({url: '/pages/tiers/index'})
    },
    async buy() {
      const result = await pay.checkout('course', this.data.id)
      this.setData({notice: result.state === 'paid' ? '购买成功' : result.message || ''})
      if (result.state === 'paid') await this.load()
      return result
    },
  },
})
