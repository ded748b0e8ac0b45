// @ts-check
/**
 * 成就海报 (kind=poster: GET /api/v1/camps/terms/{id}/poster.png, my streak and a QR of my referral link)
 * or 结营证书 (kind=certificate: GET …/certificate/ then its `image_api_url`). Both PNGs need the
 * Bearer token, so they come through wx.downloadFile (api.download); 保存到相册 uses
 * wx.saveImageToPhotosAlbum and, when the album permission was refused, offers 设置 (utils/album.js).
 */
const api = require('../../utils/api')
const {date} = require('../../utils/format')
const {saveImage, SAVE_MESSAGES} = require('../../utils/album')

Component({
  data: {
    loading: true,
    error: '',
    term: 0,
    kind: 'poster',
    image: '',
    certificateNo: '',
    completedAt: '',
    notice: '',
    saving: false,
  },
  methods: {
    /** @param {{term?: string, kind?: string}} query */
    onLoad(query) {
      const kind = query && query.kind === 'certificate' ? 'certificate' : 'poster'
      this.setData({term: Number((query && query.term) || 0), kind})
      wx.setNavigationBarTitle({title: kind === 'certificate' ? '结营证书' : '成就海报'})
      return this.load()
    },
    async load() {
      this.setData({loading: true, error: '', image: ''})
      try {
        let path = `/api/v1/camps/terms/${this.data.term}/poster.png`
        if (this.data.kind === 'certificate') {
          const certificate = await api.get(`/api/v1/camps/terms/${this.data.term}/certificate/`)
          this.setData({certificateNo: certificate.certificate_no, completedAt: date(certificate.completed_at)})
          path = certificate.image_api_url
        }
        const image = await api.download(path)
        this.setData({loading: false, image})
      } catch (error) {
        let message = error.message || '加载失败'
        if (error.code === 'not_completed') message = '完成结营要求后才能获得证书'
        else if (error.status === 403 || error.code === 'not_entitled') message = '加入训练营后才能生成海报'
        this.setData({loading: false, error: message})
      }
    },
    async save() {
      if (!this.data.image || this.data.saving) return null
      this.setData({saving: true, notice: ''})
      const result = await saveImage(this.data.image)
      this.setData({saving: false, notice: SAVE_MESSAGES[result]})
      return result
    },
    preview() {
      if (this.data.image) wx.previewImage({urls: [this.data.image], current: this.data.image})
    },
  },
})
