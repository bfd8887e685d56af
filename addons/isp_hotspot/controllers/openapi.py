"""The OpenAPI 3.0 document of /api/ (served at /api/openapi.json). Tests check it lists
exactly the API routes and fuzz every operation against it."""

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
PHONE = {"type": "string", "maxLength": 256, "example": "+255712345678"}
MAC = {"type": "string", "maxLength": 256, "example": "AA:BB:CC:DD:EE:FF"}
IP = {"type": "string", "maxLength": 256, "example": "10.5.50.21"}
OBJECT = {"type": "object"}


def _errors(*statuses):
    return {
        str(status): {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _ok(description, status="200", schema=None):
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": schema or OBJECT}},
        }
    }


def _body(properties, required):
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def _path_param(name, schema=None):
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query_param(name, schema=None, required=False):
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema or {"type": "string"},
    }


SEED_NAMES = (
    "Existing captive frontends' field names (the seed API: phone_number, voucher_code, "
    "batch_id, is_used) are accepted as well as these; a field and its alias with different "
    "values is a 400."
)


def openapi_document():
    customer_errors = _errors(400, 401, 403, 404, 429)
    customer_post_errors = _errors(400, 401, 403, 404, 413, 415, 429)
    bearer = [{"bearerAuth": []}]
    paths = {
        "/api/bundles/": {
            "get": {
                "summary": "The website company's hotspot bundles and payment providers",
                "description": "sales_message: null, or the text to show when the company "
                "takes no new online sale now (providers is then empty; vouchers still "
                "redeem).",
                "responses": {**_ok("Bundles in display order")},
            }
        },
        "/api/initiate-payment/": {
            "post": {
                "summary": "Create the bundle's payment and push it to the phone",
                "description": SEED_NAMES,
                "requestBody": _body(
                    {
                        "phone": PHONE,
                        "phone_number": dict(PHONE, description="the seed API's name of phone"),
                        "bundle_id": {"type": "integer"},
                        "provider_id": {"type": "integer"},
                        "mac": MAC,
                        "ip": IP,
                    },
                    ["bundle_id"],
                ),
                "responses": {
                    **_ok("Payment requested", "201"),
                    # 403 sales_unavailable: the company takes no new online sale now
                    **_errors(400, 403, 413, 415, 429),
                },
            }
        },
        "/api/payment-status/{reference}/": {
            "get": {
                "summary": "Follow a payment: from the session that started it, or with the "
                "access_token of initiate-payment in the X-Access-Token header (never in the "
                "URL; it expires 6 hours after the payment started)",
                "parameters": [
                    _path_param("reference"),
                    {
                        "name": "X-Access-Token",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {**_ok("Payment state"), **_errors(400, 404)},
            }
        },
        "/api/verify-access/": {
            "post": {
                "summary": "Grant or deny a device (signed-in customer or API key)",
                "requestBody": _body({"phone": PHONE, "mac": MAC, "ip": IP}, ["phone", "mac"]),
                "responses": {
                    **_ok("granted / denied with a reason"),
                    **customer_post_errors,
                },
            }
        },
        "/api/user-status/{phone}/": {
            "get": {
                "summary": "Time left, data and devices (signed-in customer or API key)",
                "parameters": [_path_param("phone")],
                "responses": {**_ok("Customer status"), **customer_errors},
            }
        },
        "/api/devices/{phone}/": {
            "get": {
                "summary": "A customer's devices (signed-in customer or API key)",
                "parameters": [_path_param("phone")],
                "responses": {**_ok("Devices"), **customer_errors},
            }
        },
        "/api/devices/remove/": {
            "post": {
                "summary": "Remove a device (signed-in customer or API key)",
                "requestBody": _body({"phone": PHONE, "mac": MAC}, ["phone", "mac"]),
                "responses": {**_ok("Removed"), **customer_post_errors},
            }
        },
        "/api/login-code/": {
            "post": {
                "summary": "Send a one-time sign-in code by SMS",
                "requestBody": _body({"phone": PHONE}, ["phone"]),
                "responses": {
                    **_ok("Sent when the number has an account", "202"),
                    **_errors(400, 413, 415, 429),
                },
            }
        },
        "/api/login/": {
            "post": {
                "summary": "Sign in with the code (session cookie)",
                "requestBody": _body(
                    {"phone": PHONE, "code": {"type": "string", "maxLength": 256}},
                    ["phone", "code"],
                ),
                "responses": {**_ok("Customer status"), **_errors(400, 413, 415, 429)},
            }
        },
        "/api/vouchers/redeem/": {
            "post": {
                "summary": "Redeem a voucher for a phone number",
                "description": SEED_NAMES,
                "requestBody": _body(
                    {
                        "code": {"type": "string", "maxLength": 256},
                        "voucher_code": {
                            "type": "string",
                            "maxLength": 256,
                            "description": "the seed API's name of code",
                        },
                        "phone": PHONE,
                        "phone_number": dict(PHONE, description="the seed API's name of phone"),
                        "mac": MAC,
                        "ip": IP,
                    },
                    [],
                ),
                "responses": {
                    **_ok(
                        "Redeemed. A new customer, or the one signed in on this session: "
                        "its status, signed_in true. Another customer's number: credited, "
                        "signed_in false, only phone and message (its owner signs in with "
                        "the SMS code, /api/login-code/)",
                        "201",
                    ),
                    **_errors(400, 404, 409, 413, 415, 429),
                },
            }
        },
        "/api/receipts/claim/": {
            "post": {
                "summary": "Claim a bundle paid by M-Pesa Paybill/Till with the receipt code "
                "of the confirmation SMS, for a phone number",
                "description": "One claim per payment, of the bundle's price. Every receipt "
                "that matches no unclaimed payment of that amount (unknown, claimed, another "
                "amount, another company's) gets the same 400 receipt_refused; "
                "receipt_unavailable where the company takes no such payments, "
                "invalid_receipt for text that is not a receipt code. Rate-limited per "
                "client address and, for failed claims, per phone number (429). "
                "receipt_code and phone_number are accepted as aliases.",
                "requestBody": _body(
                    {
                        "receipt": {"type": "string", "maxLength": 256, "example": "SHJ0VBWRGL"},
                        "receipt_code": {
                            "type": "string",
                            "maxLength": 256,
                            "description": "another name of receipt",
                        },
                        "phone": PHONE,
                        "phone_number": dict(PHONE, description="the seed API's name of phone"),
                        "bundle_id": {"type": "integer"},
                        "mac": MAC,
                        "ip": IP,
                    },
                    ["bundle_id"],
                ),
                "responses": {
                    **_ok(
                        "Claimed. A new customer, or the one signed in on this session: its "
                        "status, claimed and signed_in true. Another customer's number: they "
                        "got the access, signed_in false, only phone and message (its owner "
                        "signs in with the SMS code, /api/login-code/)",
                        "201",
                    ),
                    **_errors(400, 413, 415, 429),
                },
            }
        },
        "/api/vouchers/generate/": {
            "post": {
                "summary": "Generate a batch of vouchers (ISP manager's API key): of a bundle "
                "(bundle_id) or of a plain duration (duration_hours, at price, 0 by default)",
                "description": SEED_NAMES,
                "security": bearer,
                "requestBody": _body(
                    {
                        "bundle_id": {"type": "integer"},
                        "duration_hours": {"type": "integer", "minimum": 1, "maximum": 8784},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "price": {"type": "number", "minimum": 0},
                        "name": {"type": "string", "maxLength": 256},
                        "batch_id": {
                            "type": "string",
                            "maxLength": 256,
                            "description": "the seed API's name of name (the Batch ID)",
                        },
                        "valid_until": {"type": "string", "format": "date"},
                        "notes": {"type": "string", "maxLength": 256},
                    },
                    ["quantity"],
                ),
                "responses": {
                    **_ok("Batch and codes", "201"),
                    **_errors(400, 401, 403, 413, 415),
                },
            }
        },
        "/api/vouchers/": {
            "get": {
                "summary": "List vouchers (ISP manager's API key)",
                "security": bearer,
                "parameters": [
                    _query_param(
                        "batch_id",
                        {"type": "string", "description": "the batch's id or its Batch ID"},
                    ),
                    _query_param("is_used", {"type": "boolean"}),
                    _query_param(
                        "state",
                        {"type": "string", "enum": ["available", "redeemed", "expired", "void"]},
                    ),
                    _query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query_param("offset", {"type": "integer", "minimum": 0}),
                ],
                "responses": {**_ok("Vouchers"), **_errors(400, 401, 403)},
            }
        },
        "/api/health/": {
            "get": {
                "summary": "Database reachable, crons alive, last provider callback",
                "responses": {**_ok("Health")},
            }
        },
        "/api/openapi.json": {
            "get": {"summary": "This document", "responses": {**_ok("OpenAPI 3.0 document")}}
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ISP Hotspot API",
            "version": "19.0.1.0.0",
            "description": "Captive page API of the ISP Billing Suite. Errors are "
            '{"error": {"code", "message"}} with a 4xx status.',
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
