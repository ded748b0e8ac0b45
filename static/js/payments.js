// payments: JSAPI payment inside WeChat's browser (公众号). No inline scripts (CSP).
(function () {
  function pay(button) {
    var params = {
      appId: button.dataset.appId,
      timeStamp: button.dataset.timeStamp,
      nonceStr: button.dataset.nonceStr,
      package: button.dataset.package,
      signType: button.dataset.signType,
      paySign: button.dataset.paySign
    };
    var resultUrl = button.dataset.resultUrl;
    function invoke() {
      window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (res) {
        // Whatever the client says, the server decides (notification or query): go to the result page.
        if (res && res.err_msg !== "get_brand_wcpay_request:cancel") { window.location.href = resultUrl; }
      });
    }
    if (typeof window.WeixinJSBridge === "undefined") {
      document.addEventListener("WeixinJSBridgeReady", invoke, false);
    } else {
      invoke();
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".js-wechat-pay");
    if (button) { event.preventDefault(); pay(button); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".js-wechat-pay[data-autostart]");
    if (button) { pay(button); }
  });
})();
