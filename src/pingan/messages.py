"""The message catalogue: every stable error code in Simplified Chinese and English."""

from __future__ import annotations

from typing import Any

CATALOGUE: dict[str, tuple[str, str]] = {
    "case.illegal_transition": (
        "当前状态“{state}”下不能执行“{action}”操作",
        "Action '{action}' is not allowed in state '{state}'",
    ),
    "case.top_level": ("案件已在最高层级，无法继续上报", "The case is already at the top level"),
    "case.not_permitted": (
        "您的角色无权对此案件执行“{action}”",
        "Your role may not '{action}' this case",
    ),
    "case.missing_fields": ("“{action}”操作缺少必填项：{fields}", "'{action}' needs: {fields}"),
    "case.satisfaction_range": ("满意度须为 1 至 5", "Satisfaction must be 1 to 5"),
    "case.merge_self": ("案件不能与自身合并", "A case cannot be merged into itself"),
    "case.merge_target_closed": (
        "合并目标案件已办结或无效",
        "The merge target is not an open case",
    ),
    "case.not_found": ("案件不存在或不在您的管辖范围内", "No such case in your jurisdiction"),
    "case.stale_version": (
        "案件已被他人更新，请刷新后重试",
        "The case changed since you loaded it; reload and try again",
    ),
    "case.report_not_permitted": ("您的角色不能上报案件", "Your role cannot report cases"),
    "case.outside_jurisdiction": (
        "该位置不在您的管辖范围内",
        "That place is outside your jurisdiction",
    ),
    "case.title_required": ("请填写标题", "A title is required"),
    "case.precondition_required": (
        "请在 If-Match 请求头中携带案件的 ETag",
        "Send the case's ETag in an If-Match header",
    ),
    "category.unknown": ("未知的案件类别：{code}", "Unknown category: {code}"),
    "geo.not_finite": ("坐标必须是有限数值", "Coordinates must be finite numbers"),
    "geo.out_of_range": ("坐标超出范围（经度 ±180，纬度 ±90）", "Coordinates out of range"),
    "geo.swapped": (
        "经纬度疑似颠倒：经度 {lng}、纬度 {lat}",
        "Longitude and latitude look swapped: lng {lng}, lat {lat}",
    ),
    "geo.outside_grids": ("该位置不在任何网格内", "That point lies outside every grid"),
    "dispatch.unknown_department": (
        "部门不存在：{department_id}",
        "No such department: {department_id}",
    ),
    "dispatch.department_out_of_area": (
        "部门 {department_id} 的辖区不包含案发地",
        "Department {department_id} does not cover this place",
    ),
    "dispatch.no_department": ("未找到可派遣的部门，请手动选择", "No department found; choose one"),
    "attachment.unknown": (
        "照片不存在、不属于您或已被使用",
        "Photos must be your own, unused uploads",
    ),
    "attachment.too_large": ("文件过大", "File too large"),
    "attachment.bad_type": ("只接受 JPEG、PNG 或 WebP 图片", "Only JPEG, PNG or WebP images"),
    "idempotency.key_reused": (
        "幂等键已用于不同的请求内容",
        "This Idempotency-Key was used with a different request body",
    ),
    "idempotency.bad_key": ("幂等键长度须为 1–128", "Idempotency-Key must be 1–128 characters"),
    "idempotency.contended": ("请求冲突，请重试", "Concurrent request; retry"),
    "case.tracking_no_exhausted": (
        "暂时无法分配受理编号，请重试",
        "No free tracking number could be drawn; retry",
    ),
    "idempotency.case_missing": (
        "幂等键对应的案件已不可见",
        "The case for this key is not visible",
    ),
    "auth.failed": ("用户名或密码错误", "Wrong username or password"),
    "auth.throttled": ("登录失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"),
    "auth.required": ("请先登录", "Sign in first"),
    "auth.invalid_token": ("登录凭证无效或已过期", "Invalid or expired token"),
    "access.forbidden": ("无权执行此操作", "Not allowed"),
    "rules.not_permitted": ("无权修改派遣规则", "You may not change dispatch rules"),
    "rules.outside_jurisdiction": (
        "规则区域超出您的管辖范围",
        "Rule area outside your jurisdiction",
    ),
    "rules.not_found": ("规则不存在", "No such rule"),
    "unit.unknown": ("区划不存在：{path}", "No such unit: {path}"),
    "unit.not_found": ("区划不存在", "No such unit"),
    "units.import_not_permitted": ("仅管理员可导入区划与网格", "Only administrators import units"),
    "units.unknown_parent": (
        "{code} 的上级 {parent} 不存在",
        "Parent {parent} of {code} not found",
    ),
    "units.duplicate_code": ("导入数据中有重复编码", "Duplicate codes in the import"),
    "units.cycle": ("区划层级存在循环：{code}", "Cycle in the unit tree at {code}"),
    "units.below_grid": ("网格之下不能再有下级：{code}", "Nothing can sit below a grid: {code}"),
    "units.level_order": (
        "{code} 的层级与上级不符",
        "Level of {code} does not fit under its parent",
    ),
    "units.outside_jurisdiction": (
        "{code} 超出您的管辖范围",
        "{code} is outside your jurisdiction",
    ),
    "request.invalid": ("请求数据无效", "Invalid request"),
    "request.malformed_json": ("请求体不是有效的 JSON", "The body is not valid JSON"),
    "request.too_large": ("请求体过大", "Request body too large"),
    "request.bad_encoding": ("请求体不是有效的 UTF-8", "The body is not valid UTF-8"),
    "not_found": ("资源不存在", "Not found"),
    "service.not_ready": (
        "服务尚未就绪（数据库不可用）",
        "Not ready: the database does not answer",
    ),
    "conflict": ("请求冲突", "Conflict"),
    "db.conflict": ("数据冲突，请重试", "Conflicting write; retry"),
    "input.invalid": ("输入无效", "Invalid input"),
    "open311.api_key_required": (
        "缺少 api_key，无法提交服务请求",
        "api_key is required to submit a service request",
    ),
    "open311.api_key_invalid": (
        "api_key 无效或已停用，无法提交服务请求",
        "Invalid api_key received -- can't proceed with create_request",
    ),
    "open311.unknown_jurisdiction": (
        "jurisdiction_id 不存在：{jurisdiction_id}",
        "jurisdiction_id not found: {jurisdiction_id}",
    ),
    "open311.unknown_service": ("service_code 不存在：{code}", "service_code not found: {code}"),
    "open311.service_code_required": ("缺少 service_code", "service_code was not provided"),
    "open311.location_required": (
        "请提供位置：lat 与 long，或 address_string，或 address_id",
        "A location is required: lat and long, address_string or address_id",
    ),
    "open311.lat_long_pair": ("lat 与 long 须同时提供", "lat and long must be sent together"),
    "open311.bad_number": ("参数 {name} 须为数字", "{name} must be a number"),
    "open311.address_unresolved": (
        "无法将地址“{address}”定位到街道（镇）、社区或网格，请提供 lat 与 long",
        "Could not place '{address}' in a town, community or grid; send lat and long",
    ),
    "open311.address_ambiguous": (
        "地址“{address}”对应多个地点，请写明所属区县或提供 lat 与 long",
        "'{address}' matches several places; name the district or send lat and long",
    ),
    "open311.unknown_address_id": (
        "address_id 不存在：{address_id}（应为街道、社区或网格编码）",
        "address_id not found: {address_id} (a town, community or grid code)",
    ),
    "open311.description_too_long": (
        "description 不能超过 {max} 个字符",
        "description is limited to {max} characters",
    ),
    "open311.bad_media_url": (
        "media_url 须为 http(s) 网址",
        "media_url must be an http(s) URL",
    ),
    "open311.bad_attribute": (
        "属性 {code} 的取值无效：{value}",
        "Invalid value for attribute {code}: {value}",
    ),
    "open311.bad_status": (
        "status 只能是 open 或 closed：{status}",
        "status must be open or closed, not {status}",
    ),
    "open311.bad_date": (
        "{name} 须为 W3C 日期时间（如 2026-01-01T00:00:00+08:00）：{value}",
        "{name} must be a W3C datetime such as 2026-01-01T00:00:00Z: {value}",
    ),
    "open311.dates_reversed": ("end_date 早于 start_date", "end_date is before start_date"),
    "open311.window_too_long": (
        "start_date 与 end_date 相隔不能超过 {days} 天",
        "start_date and end_date may not span more than {days} days",
    ),
    "open311.bad_page": (
        "page 须在 1 至 {pages} 之间，page_size 须在 1 至 {max} 之间",
        "page must be 1 to {pages} and page_size 1 to {max}",
    ),
    "open311.unknown_request": (
        "service_request_id 不存在：{id}",
        "service_request_id not found: {id}",
    ),
    "open311.unknown_token": (
        "token 不存在：{token}（本服务即时返回 service_request_id，不发放 token）",
        "token not found: {token} (this endpoint returns service_request_id at once)",
    ),
    "open311.unknown_resource": ("资源不存在：{path}", "No such resource: {path}"),
    "open311.bad_format": (
        "不支持的格式“{format}”，请使用 .xml 或 .json",
        "Unsupported format '{format}'; use .xml or .json",
    ),
    "open311.bad_app_name": ("应用名称须为 1–128 个字符", "app_name must be 1-128 characters"),
    "iot.not_json": ("消息不是 UTF-8 JSON", "The message is not UTF-8 JSON"),
    "iot.not_object": ("消息须为 JSON 对象", "The message must be a JSON object"),
    "iot.too_large": ("消息过大", "The message is too large"),
    "iot.bad_device_id": ("设备编号无效", "Invalid device id"),
    "iot.bad_timestamp": (
        "时间戳缺失或无效（须带时区）",
        "Missing or invalid timestamp (needs a zone)",
    ),
    "iot.bad_metrics": ("读数无效", "Invalid metrics"),
    "iot.bad_metric_value": (
        "读数 {metric} 不是有限数值",
        "Metric {metric} is not a finite number",
    ),
    "iot.bad_event": ("事件无效", "Invalid event"),
    "iot.unknown_event": (
        "设备类型 {device_kind} 不产生事件 {kind}",
        "{device_kind} devices do not emit {kind}",
    ),
    "iot.unknown_device": ("未登记的设备", "Unregistered device"),
    "iot.time_in_future": ("时间戳在未来", "Timestamp in the future"),
    "iot.time_too_old": ("时间戳过旧", "Timestamp too old"),
    "iot.flood": ("设备上报过于频繁", "The device reports too often"),
    "iot.not_permitted": ("无权推送设备数据", "You may not push device data"),
    "devices.not_permitted": ("无权登记设备", "You may not register devices"),
    "devices.view_not_permitted": ("无权查看设备", "You may not view devices"),
    "devices.bad_id": ("设备编号无效或重复", "Invalid or repeated device id"),
    "devices.unknown_kind": ("未知设备类型：{kind}", "Unknown device kind: {kind}"),
    "devices.bad_interval": ("上报周期须在 10 秒到 7 天之间", "Interval must be 10 s to 7 days"),
    "devices.outside_jurisdiction": (
        "设备位置超出您的管辖范围",
        "Device outside your jurisdiction",
    ),
    "alarms.not_permitted": ("无权处理告警", "You may not handle alarms"),
    "alarms.not_found": ("告警不存在", "No such alarm"),
    "alarms.not_open": ("告警已处理（{state}）", "The alarm is no longer open ({state})"),
    "patrol.not_permitted": ("只有网格员可以巡查", "Only grid workers patrol"),
    "patrol.already_open": (
        "您已有进行中的巡查（{id}）",
        "You already have a patrol under way ({id})",
    ),
    "patrol.not_found": ("巡查不存在", "No such patrol"),
    "patrol.not_open": ("该巡查已结束", "That patrol has already ended"),
    "patrol.view_not_permitted": ("无权查看巡查", "You may not view patrols"),
    "positions.not_permitted": ("无权查看网格员位置", "You may not view grid workers' positions"),
    "positions.bad_time": (
        "位置时间无效（不能晚于当前时间或早于 24 小时前）",
        "Invalid position time (not in the future, nor over 24 hours ago)",
    ),
    "positions.bad_accuracy": ("定位精度无效", "Invalid position accuracy"),
    # personal data, audit trail and second factor
    "crypto.no_active_key": ("未配置当前数据密钥", "The active data key is not configured"),
    "crypto.bad_key": (
        "数据密钥“{key_id}”无效（须为 32 字节）",
        "Data key '{key_id}' is invalid (32 bytes needed)",
    ),
    "crypto.bad_setting": (
        "PINGAN_DATA_KEYS 格式错误（active=…;<id>=…;index=…）",
        "PINGAN_DATA_KEYS is malformed (active=...;<id>=...;index=...)",
    ),
    "crypto.unreadable": (
        "个人信息无法解密（密钥缺失或数据被篡改）",
        "Personal data cannot be decrypted (missing key or altered value)",
    ),
    "identity.format": (
        "身份证号码格式错误（应为 18 位）",
        "Identity number must be 18 characters",
    ),
    "identity.checksum": ("身份证号码校验位错误", "Identity number check character is wrong"),
    "identity.birth_date": (
        "身份证号码中的出生日期无效",
        "Identity number has an invalid birth date",
    ),
    "phone.format": (
        "电话号码格式错误（手机号或带区号的固定电话）",
        "Not a valid mainland mobile or fixed-line number (with its area code)",
    ),
    "contact.name_too_long": ("姓名过长（最多 64 字）", "Name too long (64 characters at most)"),
    "contact.empty": (
        "请提供姓名、手机号码或身份证号码",
        "Give a name, phone number or identity number",
    ),
    "contact.not_permitted": (
        "只有指挥中心或上报人可以登记联系方式",
        "Only the command centre or the reporter may record a contact",
    ),
    "contact.not_found": ("该案件没有登记联系方式", "This case has no contact on record"),
    "contact.lookup_not_permitted": (
        "您的角色无权按联系方式查询案件",
        "Your role may not look cases up by contact",
    ),
    "pii.read_not_permitted": (
        "查看完整个人信息需要 pii:read 权限",
        "Seeing personal data in full needs the pii:read permission",
    ),
    "audit.unavailable": (
        "审计日志暂时无法写入，操作未执行",
        "The audit trail cannot be written; nothing was done",
    ),
    "audit.not_permitted": ("只有审计员可以查看审计日志", "Only auditors may read the audit trail"),
    "auth.totp_required": (
        "请输入身份验证器中的 6 位动态码",
        "Enter the 6-digit code from your authenticator app",
    ),
    "auth.totp_invalid": ("动态码错误或已使用", "Wrong or already used authenticator code"),
    "auth.totp_already_enrolled": ("已绑定身份验证器", "An authenticator is already enrolled"),
    "auth.totp_not_enrolled": ("尚未开始绑定身份验证器", "No authenticator enrolment in progress"),
    "call.not_permitted": (
        "您无权呼叫该用户（仅指挥中心人员可呼叫其辖区内人员）",
        "You may not call this person (centre staff call people in their jurisdiction)",
    ),
    "call.no_such_user": ("被呼叫用户不存在", "No such user to call"),
    "call.not_found": ("通话不存在", "No such call"),
    "call.ended": ("通话已结束", "The call has ended"),
    "call.not_ringing": ("该通话未在呼叫您", "This call is not ringing for you"),
    "call.not_joined": ("您不在该通话中", "You are not in this call"),
    "call.already_party": ("该用户已在通话中", "That person is already in the call"),
    "call.full": ("通话人数已满", "The call is full"),
    "call.bad_signal": ("信令消息格式错误", "Malformed call signal"),
    "call.recording_type": (
        "录像须为 WebM 或 MP4 视频",
        "A recording must be a WebM or MP4 video",
    ),
    "call.no_case": (
        "该通话未关联案件，无法保存录像",
        "This call has no case to keep a recording on",
    ),
    "hotline.not_permitted": ("仅指挥中心坐席可受理热线", "Only centre staff take hotline calls"),
    "hotline.phone_required": ("请填写来电号码", "The caller's number is required"),
    "hotline.case_not_open": (
        "该案件已办结，不能并入；请登记为新案件",
        "That case is no longer open; file the call as a new case",
    ),
    "hotline.not_awaiting_followup": (
        "该案件不在待回访状态（须已结案且未评价）",
        "That case is not awaiting a follow-up call (it must be closed and not yet rated)",
    ),
    "webhook.signature_missing": (
        "缺少签名：请携带 X-Pingan-Timestamp 与 X-Pingan-Signature 请求头",
        "Signature missing: send the X-Pingan-Timestamp and X-Pingan-Signature headers",
    ),
    "webhook.bad_signature": ("签名无效", "Invalid signature"),
    "webhook.stale_timestamp": (
        "请求时间戳超出允许范围（±{window_s} 秒），可能是重放",
        "Timestamp outside the allowed window (±{window_s} s); possibly a replay",
    ),
    "webhook.replayed": (
        "该投递编号已被处理过（{delivery_id}），请求被拒绝",
        "Delivery id already processed ({delivery_id}); request refused",
    ),
    "webhook.bad_delivery_id": (
        "请在 X-Pingan-Delivery 请求头中携带唯一投递编号（最长 64 字符）",
        "Send a unique delivery id (up to 64 characters) in X-Pingan-Delivery",
    ),
    "webhook.unknown_subscription": ("订阅不存在或已停用", "No such active subscription"),
    "webhook.not_permitted": (
        "只有管理员或指挥长可以管理部门系统对接",
        "Only admins and commanders manage departmental systems",
    ),
    "webhook.bad_url": ("回调地址须为 http(s) 网址", "The URL must be an http(s) address"),
    "webhook.unknown_event": ("未知的订阅事件：{events}", "Unknown events: {events}"),
    "webhook.bad_status": ("未知的投递状态：{status}", "Unknown delivery status: {status}"),
    "webhook.bad_body": (
        "请求体须为 JSON：{{case_id, action, note, reason, photos}}",
        "The body must be JSON: {{case_id, action, note, reason, photos}}",
    ),
    "webhook.unsupported_action": (
        "部门系统只能执行签收、退回或处置（accept/return/handle），不能执行“{action}”",
        "A department's system may accept, return or handle, not '{action}'",
    ),
    "webhook.bad_photo": (
        "照片须为 base64 编码的 JPEG/PNG/WebP，最多 9 张",
        "Photos must be base64 JPEG/PNG/WebP, at most 9",
    ),
    "webhook.delivery_not_found": ("投递记录不存在", "No such delivery"),
    "webhook.not_dead": (
        "只能重放死信（当前状态：{status}）",
        "Only dead letters can be replayed (status: {status})",
    ),
    "import.bad_rows": (
        "有 {count} 行数据有误，未导入任何案件",
        "{count} bad row(s): nothing was imported",
    ),
    "import.not_permitted": ("只有管理员可以导入历史案件", "Only administrators import cases"),
    "import.bad_encoding": (
        "无法识别文件编码，请保存为 UTF-8 或 GBK 的 CSV",
        "Unknown encoding: save the CSV as UTF-8 or GBK",
    ),
    "import.bad_csv": ("CSV 格式错误：{reason}", "Malformed CSV: {reason}"),
    "import.bad_xlsx": ("无法读取该 xlsx 文件", "Cannot read this xlsx file"),
    "import.empty": ("文件中没有数据", "The file has no rows"),
    "import.missing_columns": ("缺少必需的列：{columns}", "Missing columns: {columns}"),
    "import.case.missing_field": ("缺少“{field}”", "'{field}' is missing"),
    "import.case.too_long": ("“{field}”超过 {max} 个字符", "'{field}' is longer than {max}"),
    "import.case.bad_number": ("“{field}”不是有效数字", "'{field}' is not a number"),
    "import.case.bad_time": (
        "“{field}”不是有效时间（如 2025-03-01 09:30，默认北京时间）",
        "'{field}' is not a time (e.g. 2025-03-01 09:30, China time unless an offset is given)",
    ),
    "import.case.unknown_category": ("未知的案件类别：{code}", "Unknown category: {code}"),
    "import.case.bad_crs": (
        "坐标系须为 wgs84、gcj02 或 bd09（{crs}）",
        "The CRS must be wgs84, gcj02 or bd09 ({crs})",
    ),
    "import.case.bad_place": ("坐标无效（{reason}）", "Invalid coordinates ({reason})"),
    "import.case.outside_grids": (
        "位置（{lng}, {lat}）不在任何网格内",
        "The place ({lng}, {lat}) is in no grid",
    ),
    "import.case.outside_jurisdiction": (
        "位置超出您的管辖范围",
        "The place is outside your jurisdiction",
    ),
    "import.case.bad_state": (
        "状态须为已结案、已评价或不予立案（{state}）",
        "The state must be closed, evaluated or rejected ({state})",
    ),
    "import.case.closed_before_reported": (
        "结案时间早于上报时间",
        "Closed before it was reported",
    ),
    "import.case.in_future": ("时间晚于当前时间", "The time is in the future"),
    "import.case.bad_satisfaction": (
        "满意度须为 1 至 5 的整数，且仅用于已结案案件",
        "Satisfaction must be a whole number 1 to 5, on a closed case",
    ),
    "import.case.bad_urgency": (
        "紧急程度须为一般、紧急或特急（{urgency}）",
        "Urgency must be routine, urgent or critical ({urgency})",
    ),
    "import.case.unknown_department": (
        "未知的处置部门：{department_id}",
        "Unknown department: {department_id}",
    ),
    "import.case.duplicate_in_file": (
        "外部编号在文件中重复出现",
        "The external id appears more than once in the file",
    ),
    "intake.no_model": (
        "尚未训练分类模型，请先运行 pingan train",
        "No classifier has been trained yet; run `pingan train`",
    ),
    "intake.model_unreadable": (
        "分类模型文件损坏或格式不符，请重新训练",
        "The classifier file is damaged or of an unknown format; retrain it",
    ),
    "intake.text_required": ("请填写诉求内容", "Describe the problem in the text"),
    "intake.text_too_long": ("内容过长（最多 {max} 字）", "The text is too long (at most {max})"),
    "intake.point_incomplete": ("经纬度须同时提供", "Give both lat and lon, or neither"),
    "intake.too_little_history": (
        "历史案件过少（{cases} 件），无法训练",
        "Too little case history to train on ({cases} cases)",
    ),
    "dataset.empty": ("文件中没有可用的数据行", "The file has no usable rows"),
    "dataset.no_column": (
        "找不到列“{column}”；现有列：{columns}",
        "No column '{column}'; the columns are: {columns}",
    ),
    "dataset.columns_unknown": (
        "无法识别文本列和类别列，请用 --text 和 --category 指定；现有列：{columns}",
        "Cannot tell the text and category columns; name them with --text and --category. "
        "Columns: {columns}",
    ),
    "dataset.bad_row": ("第 {row} 行：{problem}", "Row {row}: {problem}"),
    "geocode.query_required": ("请输入地址", "Enter an address"),
    "geocode.query_too_long": (
        "地址过长（最多 {max} 字）",
        "The address is too long (at most {max})",
    ),
    "address.unplaceable": (
        "地址缺少“路+门牌号”或小区名，无法登记",
        "The address names neither a road and number nor a compound",
    ),
    "input.nul_text": (
        "文本不能包含 NUL 字符（{name}）",
        "Text may not contain the NUL character ({name})",
    ),
    "request.form_not_percent_encoded": (
        "表单字段须为百分号编码的 UTF-8",
        "Form fields must be percent-encoded UTF-8",
    ),
    "attachment.too_many_pixels": (
        "图片像素过多（最多 {max_pixels} 像素）",
        "The image has too many pixels (at most {max_pixels})",
    ),
}


def message(code: str, lang: str, params: dict[str, Any] | None = None) -> str:
    zh, en = CATALOGUE.get(code, (code, code))
    template = en if lang == "en" else zh
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError, ValueError):
        return template


def pick_language(accept_language: str | None) -> str:
    """'en' when the client prefers English, else 'zh-CN' (the default for a Chinese city)."""
    if not accept_language:
        return "zh-CN"
    best, best_q = "zh-CN", -1.0
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        lang = (
            "en"
            if tag.lower().startswith("en")
            else "zh-CN"
            if tag.lower().startswith("zh")
            else None
        )
        if lang and weight > best_q:
            best, best_q = lang, weight
    return best
