// @ts-check
/**
 * Saving an image (poster, certificate, ticket) to the phone's album with wx.saveImageToPhotosAlbum.
 * WeChat asks for the album permission (scope.writePhotosAlbum) the first time; once the member has
 * refused, it fails at once without asking, and only 设置 can turn it back on — so the member is told
 * and offered wx.openSetting.
 *
 * Results: 'saved' | 'denied' (permission refused; settings offered) | 'cancelled' | 'failed'
 */

/** @param {string} errMsg */
function isAuthDenied(errMsg) {
  return /auth|authorize|permission|scope/i.test(errMsg || '') && !/cancel/i.test(errMsg || '')
}

/** @returns {Promise<boolean>} true when the member turned the album permission on in 设置 */
function offerSettings() {
  return new Promise(resolve => {
    wx.showModal({
      title: '需要相册权限',
      content: '保存图片需要允许访问相册，请在设置中打开「添加到相册」后重试。',
      confirmText: '去设置',
      cancelText: '暂不',
      success: res => {
        if (!res.confirm) return resolve(false)
        wx.openSetting({
          success: settings => resolve(!!(settings.authSetting && settings.authSetting['scope.writePhotosAlbum'])),
          fail: () => resolve(false),
        })
        return undefined
      },
      fail: () => resolve(false),
    })
  })
}

/** @param {string} filePath @returns {Promise<{ok: boolean, errMsg: string}>} */
function saveOnce(filePath) {
  return new Promise(resolve => {
    wx.saveImageToPhotosAlbum({
      filePath,
      success: () => resolve({ok: true, errMsg: ''}),
      fail: err => resolve({ok: false, errMsg: (err && err.errMsg) || 'saveImageToPhotosAlbum:fail'}),
    })
  })
}

/**
 * Save a local file (from api.download) to the album; if the permission was refused, explain and
 * offer 设置, then try once more when the member turned it on.
 * @param {string} filePath
 * @returns {Promise<'saved' | 'denied' | 'cancelled' | 'failed'>}
 */
async function saveImage(filePath) {
  let result = await saveOnce(filePath)
  if (result.ok) return 'saved'
  if (/cancel/i.test(result.errMsg)) return 'cancelled'
  if (!isAuthDenied(result.errMsg)) return 'failed'
  if (!(await offerSettings())) return 'denied'
  result = await saveOnce(filePath)
  return result.ok ? 'saved' : 'denied'
}

const SAVE_MESSAGES = {
  saved: '已保存到相册',
  denied: '未获得相册权限，图片没有保存',
  cancelled: '已取消保存',
  failed: '保存失败，请重试',
}

module.exports = {saveImage, SAVE_MESSAGES, isAuthDenied}
