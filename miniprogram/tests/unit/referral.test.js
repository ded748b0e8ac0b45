const {referralFromQuery, sharePath} = require('../../app/utils/referral')

test('the referral code comes from a share path or a 小程序码 scene', () => {
  expect(referralFromQuery({ref: 'ABCD2345'})).toBe('ABCD2345')
  expect(referralFromQuery({scene: encodeURIComponent('r=WXYZ6789')})).toBe('WXYZ6789')
  expect(referralFromQuery({scene: 'r%3DWXYZ6789%26x%3D1'})).toBe('WXYZ6789')
  expect(referralFromQuery({ref: '<script>'})).toBe('')
  expect(referralFromQuery(undefined)).toBe('')
})

test('shares carry the member code', () => {
  expect(sharePath('/pages/home/index', 'ABCD2345')).toBe('/pages/home/index?ref=ABCD2345')
  expect(sharePath('/pkg-courses/detail/index', 'ABCD2345', {id: 7})).toBe('/pkg-courses/detail/index?id=7&ref=ABCD2345')
  expect(sharePath('/pages/home/index', '')).toBe('/pages/home/index')
})
