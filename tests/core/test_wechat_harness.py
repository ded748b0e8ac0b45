"""The WeChat client factory and the fake WeChat server speak the real protocols."""

import json

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from core.wechat import miniprogram_client, wechatpay_client
from payments.gateways import protocol


def test_without_the_fake_wechat_is_unreachable():
    with pytest.raises((requests.ConnectionError, WeChatClientException)):
        miniprogram_client().wxa.code_to_session("any")


def test_mini_program_login_through_the_fake(fake_wechat):
    code = fake_wechat.login_code(openid="oTESTopenid0000000000000001", unionid="uTEST")
    result = miniprogram_client().wxa.code_to_session(code)
    assert result["openid"] == "oTESTopenid0000000000000001"
    assert ("POST", "/cgi-bin/stable_token") in fake_wechat.calls
    with pytest.raises(WeChatClientException) as excinfo:
        miniprogram_client().wxa.code_to_session(code)  # a code is single-use
    assert excinfo.value.errcode == 40029


def test_wechatpay_request_signed_by_the_merchant_is_accepted_and_response_verified(fake_wechat):
    client = wechatpay_client()
    status, text = client.pay(
        description="VIP", out_trade_no="T1", amount={"total": 100}, payer={"openid": "o" + "x" * 27}
    )
    assert status == 200 and "prepay_id" in json.loads(text)
    status, text = client.query(out_trade_no="T1")
    assert status == 200 and json.loads(text)["trade_state"] == "NOTPAY"


def test_fake_rejects_a_request_signed_with_the_wrong_merchant_key(fake_wechat):
    impostor = protocol.generate_keypair()
    client = wechatpay_client(private_key_pem=impostor.private_pem)
    status, text = client.pay(
        description="VIP", out_trade_no="T2", amount={"total": 100}, payer={"openid": "o" + "x" * 27}
    )
    assert status == 401
    assert json.loads(text)["code"] == "SIGN_ERROR"
    assert "T2" not in fake_wechat.transactions


def test_notification_from_the_fake_verifies_with_the_sdk(fake_wechat):
    client = wechatpay_client()
    client.pay(description="VIP", out_trade_no="T3", amount={"total": 100}, payer={"openid": "o" + "x" * 27})
    headers, body = fake_wechat.pay("T3")
    result = client.callback(protocol.django_meta_headers(headers), body.decode())
    assert result["resource"]["out_trade_no"] == "T3"
    assert result["resource"]["trade_state"] == "SUCCESS"
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESs")
    assert client.callback(protocol.django_meta_headers(headers), tampered.decode()) is None
