// @ts-check
/**
 * Pick one image with wx.chooseMedia, refusing it before any upload when it is over the server's limit
 * (UPLOAD_IMAGE_MAX_BYTES, 5 MiB by default).
 */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024

/** @returns {Promise<{path: string, size: number} | null>} null when the member cancels */
function chooseImage() {
  return new Promise((resolve, reject) => {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      sizeType: ['compressed'],
      success: res => {
        const file = res.tempFiles[0]
        if (file.size > MAX_IMAGE_BYTES) {
          reject(new Error(`图片不能超过 ${MAX_IMAGE_BYTES / 1024 / 1024} MB，请换一张`))
          return
        }
        resolve({path: file.tempFilePath, size: file.size})
      },
      fail: () => resolve(null),
    })
  })
}

module.exports = {chooseImage, MAX_IMAGE_BYTES}
