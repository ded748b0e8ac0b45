"""Unmatched URLs: the API's error shape under /api/, a Chinese page elsewhere."""

import pytest


@pytest.mark.django_db
def test_unknown_api_url_answers_json_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_unknown_page_answers_the_site_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_schema_documents_shared_error_statuses():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    detail = schema["paths"]["/api/v1/orders/{order_no}/"]["get"]["responses"]
    assert {"401", "404", "429"} <= set(detail)
    assert detail["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
