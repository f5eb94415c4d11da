"""The catalogue of messages the engine says to people, in English and Chinese.

An engine message stays English text wherever it goes (logs, `str()`, JSON, older callers), but a
`Message` also keeps its catalogue id and parameters, so the runtime can show it in the reader's
language. The engine itself never picks a language for people: that is the page's, the API
caller's, the importer's or the command line's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from string import Formatter
from typing import Any

LOCALES = ("en", "zh_CN")
# How a list parameter is written in each language.
_JOINERS = {"en": ", ", "zh_CN": "、"}

CATALOGUE: dict[str, dict[str, str]] = {
    # -- values a field type refuses ----------------------------------------------------------------
    "not_one_of": {
        "en": "must be one of {options} (got {got})",
        "zh_CN": "必须是以下之一：{options}（收到 {got}）",
    },
    "not_one_of_more": {
        "en": "must be one of {options}, … ({more} more) (got {got})",
        "zh_CN": "必须是以下之一：{options}……（另有 {more} 项）（收到 {got}）",
    },
    "tags_not_list": {"en": "must be a list of tags (got {got})", "zh_CN": "必须是标签列表（收到 {got}）"},
    "tag_not_text": {
        "en": "each tag must be text (got {got})",
        "zh_CN": "每个标签都必须是文本（收到 {got}）",
    },
    "too_many_tags": {
        "en": "must have at most {limit} tags (got {count})",
        "zh_CN": "最多 {limit} 个标签（收到 {count} 个）",
    },
    "tag_too_long": {
        "en": "each tag must be at most {limit} characters (got {length} in {got})",
        "zh_CN": "每个标签最多 {limit} 个字符（{got} 有 {length} 个）",
    },
    "not_date": {
        "en": "must be a date like 2026-11-26 (got {got})",
        "zh_CN": "必须是日期，如 2026-11-26（收到 {got}）",
    },
    "not_datetime": {
        "en": "must be a date and time like 2026-11-26 14:30 (got {got})",
        "zh_CN": "必须是日期和时间，如 2026-11-26 14:30（收到 {got}）",
    },
    "too_long": {
        "en": "must be at most {limit} characters (got {length})",
        "zh_CN": "最多 {limit} 个字符（收到 {length} 个）",
    },
    "not_text": {"en": "must be text (got {got})", "zh_CN": "必须是文本（收到 {got}）"},
    "not_matching": {
        "en": "must match the pattern {pattern} (got {got})",
        "zh_CN": "必须符合格式 {pattern}（收到 {got}）",
    },
    "not_email": {
        "en": "must be an e-mail address like name@example.com (got {got})",
        "zh_CN": "必须是电子邮箱地址（收到 {got}）",
    },
    "not_phone": {
        "en": "must be a phone number of digits, +, -, spaces and parentheses (got {got})",
        "zh_CN": "必须是电话号码，只能有数字、+、-、空格和括号（收到 {got}）",
    },
    "phone_digits": {
        "en": "must have 5 to 20 digits (got {digits} in {got})",
        "zh_CN": "必须有 5 到 20 位数字（{got} 中有 {digits} 位）",
    },
    "not_cn_mobile": {
        "en": "must be a mainland mobile number: 11 digits starting 13 to 19 (got {got})",
        "zh_CN": "必须是 11 位手机号码，以 13 至 19 开头（收到 {got}）",
    },
    "not_cn_landline": {
        "en": "must be a landline number with its area code, like 010-62123456 (got {got})",
        "zh_CN": "必须是带区号的固定电话，如 010-62123456（收到 {got}）",
    },
    "not_cn_phone": {
        "en": "must be an 11-digit mobile number, a landline with its area code like 010-62123456, "
        "a 400/800 number or an international number starting with + (got {got})",
        "zh_CN": "必须是 11 位手机号码、带区号的固定电话（如 010-62123456）、400/800 电话"
        "或以 + 开头的国际号码（收到 {got}）",
    },
    "not_e164": {
        "en": "must be an international number: +, the country code and the number, "
        "like +8613800138000 (got {got})",
        "zh_CN": "必须是国际格式号码：+、国家代码和号码，如 +8613800138000（收到 {got}）",
    },
    "ambiguous_date": {
        "en": "{got} could be {day_first} (day first) or {month_first} (month first): choose the date order",
        "zh_CN": "{got} 既可能是 {day_first}（日在前），也可能是 {month_first}（月在前）：请选择日期顺序",
    },
    "not_url": {
        "en": "must be an http(s) address like https://example.com (got {got})",
        "zh_CN": "必须是网址（收到 {got}）",
    },
    "below_min": {"en": "must be ≥ {low} (got {value})", "zh_CN": "必须 ≥ {low}（收到 {value}）"},
    "above_max": {"en": "must be ≤ {high} (got {value})", "zh_CN": "必须 ≤ {high}（收到 {value}）"},
    "not_whole_number": {"en": "must be a whole number (got {got})", "zh_CN": "必须是整数（收到 {got}）"},
    "too_large": {"en": "is too large (got {got})", "zh_CN": "数值太大（收到 {got}）"},
    "not_number": {"en": "must be a number (got {got})", "zh_CN": "必须是数字（收到 {got}）"},
    "too_many_digits": {
        "en": "must have at most {digits} digits before the point (got {got})",
        "zh_CN": "整数部分最多 {digits} 位（收到 {got}）",
    },
    "not_amount": {
        "en": "must be an amount in {currency} (got {got})",
        "zh_CN": "必须是金额，币种 {currency}（收到 {got}）",
    },
    "not_percentage": {"en": "must be a percentage (got {got})", "zh_CN": "必须是百分比（收到 {got}）"},
    "not_yes_no": {"en": "must be yes or no (got {got})", "zh_CN": "必须是“是”或“否”（收到 {got}）"},
    "not_id": {"en": "must be a {what} id (got {got})", "zh_CN": "必须是{what}的编号（收到 {got}）"},
    "not_positive_id": {
        "en": "must be a positive {what} id (got {got})",
        "zh_CN": "必须是正整数的{what}编号（收到 {got}）",
    },
    "file_not_object": {
        "en": "each file must be an object with a name, key and size (got {got})",
        "zh_CN": "每个文件都必须有名称、存储键和大小（收到 {got}）",
    },
    "file_without_name": {
        "en": "each file needs a name (got {got})",
        "zh_CN": "每个文件都需要名称（收到 {got}）",
    },
    "file_without_key": {
        "en": "file {name} needs a storage key (got {got})",
        "zh_CN": "文件 {name} 缺少存储键（收到 {got}）",
    },
    "file_without_size": {
        "en": "file {name} needs a size in bytes (got {got})",
        "zh_CN": "文件 {name} 缺少以字节计的大小（收到 {got}）",
    },
    "file_bad_content_type": {
        "en": "file {name} needs a text content_type (got {got})",
        "zh_CN": "文件 {name} 的类型必须是文本（收到 {got}）",
    },
    "files_not_list": {
        "en": "must be a list of uploaded files (got {got})",
        "zh_CN": "必须是已上传文件的列表（收到 {got}）",
    },
    "files_not_text": {
        "en": "must be uploaded files, not text (got {got})",
        "zh_CN": "必须是上传的文件，不能是文字（收到 {got}）",
    },
    "one_file_only": {
        "en": "allows only one file (got {count})",
        "zh_CN": "只能上传一个文件（收到 {count} 个）",
    },
    "file_too_big": {
        "en": "each file must be at most {limit} MB (got {size} MB in {got})",
        "zh_CN": "每个文件最大 {limit} MB（{got} 为 {size} MB）",
    },
    "file_type_refused": {
        "en": "must be one of {options} (got {got})",
        "zh_CN": "文件类型必须是以下之一：{options}（收到 {got}）",
    },
    "autonumbered": {
        "en": "is numbered automatically and cannot be set (got {got})",
        "zh_CN": "由系统自动编号，不能填写（收到 {got}）",
    },
    "computed": {"en": "is computed and cannot be set", "zh_CN": "由系统计算，不能填写"},
    # -- a record's fields --------------------------------------------------------------------------
    "required": {"en": "is required", "zh_CN": "为必填项"},
    "read_only": {"en": "is read-only", "zh_CN": "为只读字段"},
    "holds_nul": {
        "en": "holds a NUL character, which no database can store",
        "zh_CN": "含有空字符，数据库无法保存",
    },
    "set_by_system": {"en": "is set by the system", "zh_CN": "由系统填写"},
    "not_a_field": {"en": "is not a field of {object}", "zh_CN": "不是{object}的字段"},
    "not_user_id": {"en": "must be a user id (got {got})", "zh_CN": "必须是用户编号（收到 {got}）"},
    "default_failed": {
        "en": "default {default} failed: {error}",
        "zh_CN": "默认值 {default} 计算失败：{error}",
    },
    "reference_missing": {"en": "{what} {id} does not exist", "zh_CN": "{what} {id} 不存在"},
    "unique_in_earlier_row": {
        "en": "{value} is also in an earlier row",
        "zh_CN": "{value} 在前面的行中已出现",
    },
    "unique_taken": {
        "en": "{value} is already used by {object} {id}",
        "zh_CN": "{value} 已被{object} {id} 使用",
    },
    "unique_taken_in_bin": {
        "en": "{value} is already used by {object} {id} (in the recycle bin)",
        "zh_CN": "{value} 已被回收站中的{object} {id} 使用",
    },
    "owner_refused": {
        "en": "you may not give this record to that user",
        "zh_CN": "你不能把这条记录交给该用户",
    },
    "hidden_field": {
        "en": "a field you cannot see needs a value or holds a bad one; ask an administrator",
        "zh_CN": "一个你看不到的字段缺少值或值有误，请联系管理员",
    },
    "field_messages": {"en": "{field}: {messages}", "zh_CN": "{field}：{messages:，}"},
    "record_invalid": {"en": "{object} is invalid: {detail:; }", "zh_CN": "{object}的数据有误：{detail:；}"},
    "record_row_invalid": {
        "en": "{object} row {row} is invalid: {detail:; }",
        "zh_CN": "{object}第 {row} 行的数据有误：{detail:；}",
    },
    "rows_invalid": {
        "en": "{count} {object} row(s) are invalid (rows {rows}…); nothing was saved",
        "zh_CN": "{count} 行{object}数据有误（第 {rows}… 行），没有保存任何数据",
    },
    # -- who may do what ----------------------------------------------------------------------------
    "may_not_create": {"en": "you may not create {object} records", "zh_CN": "你没有新建{object}的权限"},
    "may_not_read": {"en": "you may not see {object} records", "zh_CN": "你没有查看{object}的权限"},
    "may_not_update": {"en": "you may not change {object} records", "zh_CN": "你没有修改{object}的权限"},
    "may_not_delete": {"en": "you may not delete {object} records", "zh_CN": "你没有删除{object}的权限"},
    "may_not_import": {"en": "you may not import {object} records", "zh_CN": "你没有导入{object}的权限"},
    "may_not_export": {"en": "you may not export {object} records", "zh_CN": "你没有导出{object}的权限"},
    "may_see_not_update": {
        "en": "you may see this {object} but not change it",
        "zh_CN": "你可以查看这条{object}，但不能修改",
    },
    "may_see_not_delete": {
        "en": "you may see this {object} but not delete it",
        "zh_CN": "你可以查看这条{object}，但不能删除",
    },
    "may_see_not_submit": {
        "en": "you may see this {object} but not submit it for approval",
        "zh_CN": "你可以查看这条{object}，但不能提交审批",
    },
    "record_missing": {"en": "{object} {id} does not exist", "zh_CN": "{object} {id} 不存在"},
    "record_changed": {
        "en": "{object} {id} was changed by someone else: you edited version {expected}, it is now at "
        "version {actual}; reload it and apply your change again",
        "zh_CN": "{object} {id} 已被他人修改：你编辑的是第 {expected} 版，现在是第 {actual} 版；"
        "请重新打开后再修改",
    },
    # -- the pool (公海) -----------------------------------------------------------------------------
    "pool_taken_one": {
        "en": "{object} {ids} is not in the pool any more (someone claimed it first); nothing was claimed",
        "zh_CN": "{object} {ids} 已不在公海中（已被他人领取），没有领取任何记录",
    },
    "pool_taken_many": {
        "en": "{object} {ids} are not in the pool any more (someone claimed them first); nothing was claimed",
        "zh_CN": "{object} {ids} 已不在公海中（已被他人领取），没有领取任何记录",
    },
    "pool_not_yours_one": {
        "en": "{object} {ids} is not yours to release: only the owner (or an admin) can put a record back "
        "in the pool; nothing was released",
        "zh_CN": "{object} {ids} 不归你负责：只有负责人（或管理员）可以退回公海，没有退回任何记录",
    },
    "pool_not_yours_many": {
        "en": "{object} {ids} are not yours to release: only the owner (or an admin) can put a record back "
        "in the pool; nothing was released",
        "zh_CN": "{object} {ids} 不归你负责：只有负责人（或管理员）可以退回公海，没有退回任何记录",
    },
    "pool_cap": {
        "en": "you may hold at most {cap} {object} records; you hold {held}, so claiming {incoming} more "
        "would make {total}. Work or release some first; nothing was claimed",
        "zh_CN": "你最多可持有 {cap} 条{object}，现已持有 {held} 条，再领取 {incoming} 条将达到 {total} 条；"
        "请先跟进或退回一些，没有领取任何记录",
    },
    "pool_cap_filtered": {
        "en": "you may hold at most {cap} {object} records that match {filter}; you hold {held}, so claiming "
        "{incoming} more would make {total}. Work or release some first; nothing was claimed",
        "zh_CN": "符合 {filter} 的{object}你最多可持有 {cap} 条，现已持有 {held} 条，"
        "再领取 {incoming} 条将达到 {total} 条；请先跟进或退回一些，没有领取任何记录",
    },
    # -- approvals ----------------------------------------------------------------------------------
    "locked_in_approval": {
        "en": "{object} {id} is locked while its approval runs ({flow}); only an administrator may change it",
        "zh_CN": "{object} {id} 正在审批（{flow}），已锁定，只有管理员可以修改",
    },
    "locked_approved": {
        "en": "{object} {id} is locked because its approval was granted ({flow}); "
        "only an administrator may change it",
        "zh_CN": "{object} {id} 已审批通过（{flow}），已锁定，只有管理员可以修改",
    },
    "locked_field_in_approval": {
        "en": "locked while the record's approval runs; only an administrator may change it",
        "zh_CN": "审批中，此字段已锁定，只有管理员可以修改",
    },
    "locked_field_approved": {
        "en": "locked because the record's approval was granted; only an administrator may change it",
        "zh_CN": "已审批通过，此字段已锁定，只有管理员可以修改",
    },
    "rejection_needs_reason": {
        "en": "a rejection needs a reason: say why in the comment",
        "zh_CN": "驳回需要填写原因，请在意见中说明",
    },
    "task_not_yet": {
        "en": "task {task} is not its approver's turn yet",
        "zh_CN": "审批任务 {task} 还没轮到审批人",
    },
    "task_not_yours": {"en": "task {task} is not yours to decide", "zh_CN": "审批任务 {task} 不归你审批"},
    "task_decided": {
        "en": "task {task} was decided meanwhile; nothing was changed",
        "zh_CN": "审批任务 {task} 已被他人处理，没有做任何修改",
    },
    "task_already_decided": {
        "en": "task {task} has already been decided ({status}); nothing was changed",
        "zh_CN": "审批任务 {task} 已处理（{status}），没有做任何修改",
    },
    "task_decided_meanwhile": {
        "en": "task {task} was decided meanwhile ({status}); nothing was changed: reload and look again",
        "zh_CN": "审批任务 {task} 刚被他人处理（{status}），没有做任何修改，请刷新后再看",
    },
    "approval_ended": {
        "en": "the approval of {object} {id} has ended ({status}); nothing was changed",
        "zh_CN": "{object} {id} 的审批已结束（{status}），没有做任何修改",
    },
    "approval_record_gone": {
        "en": "{object} {id} is not the record this approval was started on (that one was removed);"
        " nothing was changed: withdraw the approval",
        "zh_CN": "{object} {id} 已不是发起此审批时的那条记录（原记录已被移除），没有做任何修改，请撤回此审批",
    },
    "withdraw_submitter_only": {
        "en": "only the submitter can withdraw an approval",
        "zh_CN": "只有提交人可以撤回审批",
    },
    "remind_needs_target": {
        "en": "remind about one task or one approval: give task_id or instance_id",
        "zh_CN": "请指定要催办的审批任务或审批",
    },
    "remind_not_allowed": {
        "en": "only the submitter or an administrator can send reminders",
        "zh_CN": "只有提交人或管理员可以催办",
    },
    "nobody_to_remind": {
        "en": "nobody is waiting to decide: there is no one to remind",
        "zh_CN": "没有待审批的人，无需催办",
    },
    "comment_needs_text": {"en": "a comment needs some text", "zh_CN": "评论不能为空"},
    "may_not_comment": {"en": "you may not comment on this approval", "zh_CN": "你不能评论这次审批"},
    "flow_inactive": {"en": "the approval flow {flow} is not active", "zh_CN": "审批流程{flow}未启用"},
    "no_such_approver": {
        "en": "there is no user {user} to choose as an approver",
        "zh_CN": "没有可选作审批人的用户 {user}",
    },
    "approver_disabled": {
        "en": "user {user} is disabled and cannot approve",
        "zh_CN": "用户 {user} 已停用，不能审批",
    },
    "already_approver": {
        "en": "{user} already has this step to approve",
        "zh_CN": "{user} 已是这一步的审批人",
    },
    "no_such_user": {"en": "there is no user with id {id}", "zh_CN": "没有编号为 {id} 的用户"},
    # -- who acted -----------------------------------------------------------------------------------
    "actor_rule": {"en": 'rule "{rule}"', "zh_CN": "规则「{rule}」"},
    "actor_flow": {"en": 'approval flow "{flow}"', "zh_CN": "审批流程「{flow}」"},
    "actor_system": {"en": "the system", "zh_CN": "系统"},
    "actor_web_form": {"en": "the web form", "zh_CN": "网页表单"},
    # -- imports ------------------------------------------------------------------------------------
    "import_refused": {"en": "the import cannot run: {problems:; }", "zh_CN": "无法导入：{problems:；}"},
    "column_not_in_file": {
        "en": "column {column} is not in the file (its columns: {columns})",
        "zh_CN": "文件中没有列 {column}（文件的列：{columns}）",
    },
    "column_no_field": {
        "en": "column {column}: {object} has no field {field} that can be imported",
        "zh_CN": "列 {column}：{object}没有可导入的字段 {field}",
    },
    "column_read_only": {
        "en": "column {column}: field {field} is read-only for you",
        "zh_CN": "列 {column}：字段「{field}」对你是只读的",
    },
    "column_autonumbered": {
        "en": "column {column}: {field} is numbered by the system; use it only as --key",
        "zh_CN": "列 {column}：「{field}」由系统编号，只能用作匹配键",
    },
    "columns_same_field": {
        "en": "columns {first} and {column} both map to {field}",
        "zh_CN": "列 {first} 和 {column} 都对应到字段「{field}」",
    },
    "key_not_mapped": {
        "en": "the key field {field} is not mapped to any column",
        "zh_CN": "匹配键字段「{field}」没有对应任何列",
    },
    "no_column_mapped": {
        "en": "no column maps to a field of {object}",
        "zh_CN": "没有任何列对应到{object}的字段",
    },
    "key_not_unique": {
        "en": "key field {field} must be unique (unique: true or a unique key)",
        "zh_CN": "匹配键字段「{field}」必须是唯一的",
    },
    "no_duplicate_rules": {
        "en": "{object} has no duplicate rules; use a key field to update records",
        "zh_CN": "{object}没有查重规则，请用匹配键字段来更新记录",
    },
    "file_not_csv_xlsx": {
        "en": "{file}: expected a .csv or .xlsx file",
        "zh_CN": "{file}：只能导入 .csv 或 .xlsx 文件",
    },
    "file_missing": {"en": "{file}: no such file", "zh_CN": "{file}：文件不存在"},
    "file_header_unreadable": {
        "en": "{file}: cannot read the header row: {error}",
        "zh_CN": "{file}：无法读取标题行：{error}",
    },
    "file_no_header": {
        "en": "{file}: the first row must name the columns",
        "zh_CN": "{file}：第一行必须是列名",
    },
    "file_line_unreadable": {
        "en": "{file} line {line}: {error}",
        "zh_CN": "{file} 第 {line} 行无法读取：{error}",
    },
    "file_not_xlsx": {
        "en": "{file}: not a readable XLSX file ({error})",
        "zh_CN": "{file}：不是可读取的 XLSX 文件（{error}）",
    },
    "xlsx_ends_early": {
        "en": "the file ends early, before its last row or string",
        "zh_CN": "文件提前结束，缺少最后的行或文本",
    },
    "xlsx_too_large": {
        "en": "a row or string is larger than a sheet can hold",
        "zh_CN": "某一行或某个文本超出了工作表能容纳的大小",
    },
    "xlsx_row_limit": {
        "en": "row {row} is past the last row a sheet can have ({limit})",
        "zh_CN": "第 {row} 行超出了工作表的最大行数（{limit}）",
    },
    "xlsx_column_limit": {
        "en": "cell {cell} is past the last column a sheet can have ({last})",
        "zh_CN": "单元格 {cell} 超出了工作表的最后一列（{last}）",
    },
    "xlsx_bad_character": {
        "en": "{reference} is no character the file may hold",
        "zh_CN": "{reference} 不是文件中允许的字符",
    },
    "columns_left_out": {
        "en": "columns not imported (no field takes them): {columns}",
        "zh_CN": "以下列没有对应的字段，不会导入：{columns}",
    },
    "words_unknown": {
        "en": "{field}: words that are no option (rows): {words}",
        "zh_CN": "{field}：不是选项的词（行数）：{words}",
    },
    "words_guessed": {
        "en": "{field}: words taken for an option: {words}",
        "zh_CN": "{field}：推测为选项的词：{words}",
    },
    "map_words_hint": {
        "en": 'map them in a mapping file\'s "{key}" ({option} FILE writes one to fill in)',
        "zh_CN": '请在映射文件的 "{key}" 中为它们选择选项（{option} 文件 可生成待填写的映射文件）',
    },
    "dates_order_read": {
        "en": "dates written with {separator} read {order}, as the file's other dates show",
        "zh_CN": "以 {separator} 分隔的日期按{order}读取（依据文件中的其他日期）",
    },
    "day_first": {"en": "day first", "zh_CN": "日在前"},
    "month_first": {"en": "month first", "zh_CN": "月在前"},
    "mapping_saved": {"en": "mapping written to {path}", "zh_CN": "映射已写入 {path}"},
    "bad_on_duplicate": {
        "en": "on_duplicate must be one of {choices}",
        "zh_CN": "重复处理方式必须是以下之一：{choices}",
    },
    "bad_date_order": {
        "en": "the date order must be one of {choices}",
        "zh_CN": "日期顺序必须是以下之一：{choices}",
    },
    "duplicates_record": {
        "en": "duplicates {object} {id} already in Loom ({rule})",
        "zh_CN": "与系统中已有的{object} {id} 重复（{rule}）",
    },
    "duplicates_line": {
        "en": "duplicates line {line} of this file ({rule})",
        "zh_CN": "与本文件第 {line} 行重复（{rule}）",
    },
    "lookup_not_found": {
        "en": "no {object} is named {got}",
        "zh_CN": "找不到名为 {got} 的{object}",
    },
    "lookup_ambiguous": {
        "en": "{count} records of {object} are named {got}: give the id",
        "zh_CN": "有 {count} 条{object}名为 {got}，请填写编号",
    },
    "same_key": {"en": "same {field}", "zh_CN": "{field}相同"},
    "no_record_numbered": {"en": "no {object} has {field} {key}", "zh_CN": "没有{field}为 {key} 的{object}"},
    "duplicate_not_yours": {"en": "{why}, which you may not change", "zh_CN": "{why}，而你不能修改该记录"},
    "duplicate_update_failed": {"en": "{why}; updating it failed", "zh_CN": "{why}；更新失败"},
    # -- a metadata change's plan -------------------------------------------------------------------
    "plan_document_added": {"en": "+ {kind} {name}", "zh_CN": "+ 新增{kind} {name}"},
    "plan_document_changed": {
        "en": "~ {kind} {name} ({count} change(s))",
        "zh_CN": "~ 修改{kind} {name}（{count} 处变更）",
    },
    "plan_document_removed": {"en": "- {kind} {name}", "zh_CN": "- 删除{kind} {name}"},
    "kind_object": {"en": "object", "zh_CN": "对象"},
    "kind_rule": {"en": "rule", "zh_CN": "规则"},
    "kind_role": {"en": "role", "zh_CN": "角色"},
    "kind_flow": {"en": "flow", "zh_CN": "审批流程"},
    "kind_form": {"en": "form", "zh_CN": "表单"},
    "kind_report": {"en": "report", "zh_CN": "报表"},
    "kind_dashboard": {"en": "dashboard", "zh_CN": "仪表盘"},
    "plan_step": {"en": "{mark} {action} {table}: {detail}", "zh_CN": "{mark} {action} {table}：{detail}"},
    "plan_step_bare": {"en": "{mark} {action} {table}: ", "zh_CN": "{mark} {action}（{table}）"},
    "step_create_table": {"en": "create_table", "zh_CN": "新建数据表"},
    "step_add_column": {"en": "add_column", "zh_CN": "新增列"},
    "step_restore_column": {"en": "restore_column", "zh_CN": "恢复归档列及其数据"},
    "step_archive_column": {"en": "archive_column", "zh_CN": "归档列"},
    "step_convert_column": {"en": "convert_column", "zh_CN": "转换列"},
    "step_alter_column": {"en": "alter_column", "zh_CN": "修改列"},
    "step_create_index": {"en": "create_index", "zh_CN": "新建索引"},
    "step_drop_index": {"en": "drop_index", "zh_CN": "删除索引"},
    "step_archive_table": {"en": "archive_table", "zh_CN": "归档数据表"},
    "step_drop_table": {"en": "drop_table", "zh_CN": "删除空数据表"},
    "step_table_columns": {"en": "{count} field column(s)", "zh_CN": "{count} 个字段列"},
    "step_column_added": {"en": "{name} ({type})", "zh_CN": "{name}（{type}）"},
    "step_column_restored": {
        "en": "{name} from {column} (data returns)",
        "zh_CN": "{name}，取自 {column}（数据随之恢复）",
    },
    "step_column_converted": {
        "en": "{name}: {old} → {new} (old column archived)",
        "zh_CN": "{name}：{old} → {new}（旧列已归档）",
    },
    "step_column_altered": {"en": "{name}: {old} → {new}", "zh_CN": "{name}：{old} → {new}"},
    "step_column_archived": {
        "en": "{column} (field removed; data kept, restorable)",
        "zh_CN": "{column}（字段已移除；数据保留，可恢复）",
    },
    "step_index": {"en": "{kind} {name} on {columns}", "zh_CN": "{columns} 上的{kind} {name}"},
    "index_unique": {"en": "unique index", "zh_CN": "唯一索引"},
    "index_plain": {"en": "index", "zh_CN": "索引"},
    "step_table_archived": {
        "en": "object removed; {rows} row(s) kept in an archive table",
        "zh_CN": "对象已移除；{rows} 行数据保留在归档表中",
    },
    "step_table_empty": {"en": "object removed; table is empty", "zh_CN": "对象已移除；表中没有数据"},
    # -- the database -------------------------------------------------------------------------------
    "database_unavailable": {
        "en": "the database cannot be reached just now; try again in {seconds} seconds",
        "zh_CN": "暂时无法连接数据库，请 {seconds} 秒后重试",
    },
}


class Message(str):
    """English text that also carries its catalogue id and parameters."""

    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, /, **params: Any) -> Message:
        made = super().__new__(cls, _fill(code, "en", params))
        made.code = code
        made.params = params
        return made

    def __str__(self) -> Message:  # type: ignore[override]
        # str(error) of an exception carrying a Message hands the Message on, id and all.
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_remake, (self.code, dict(self.params)))

    def in_locale(self, locale: str) -> str:
        return _fill(self.code, locale, self.params)


def _remake(code: str, params: dict[str, Any]) -> Message:
    return Message(code, **params)


def named(name: str, label: Mapping[str, str] | None) -> dict[str, str]:
    """A thing as each reader knows it: its name in English messages, its label in Chinese."""
    chinese = (label or {}).get("zh_CN") or name
    return {"en": name, "zh_CN": chinese}


def localize(text: str, locale: str) -> str:
    """A message in `locale`; text that is not from the catalogue (a rule's own words) comes back as is."""
    if isinstance(text, Message):
        return text.in_locale(locale)
    return str(text)


def localize_fields(fields: Mapping[str, Sequence[str]], locale: str) -> dict[str, list[str]]:
    """Every field's messages in `locale`."""
    return {name: [localize(message, locale) for message in messages] for name, messages in fields.items()}


def params_of(code: str, locale: str) -> set[str]:
    """The parameter names a catalogue template uses."""
    return {name for _, name, _, _ in Formatter().parse(CATALOGUE[code][locale]) if name}


def to_json(text: str) -> str | dict[str, Any]:
    """A message as stored JSON: a catalogue message keeps its id and parameters, other text stays text."""
    if not isinstance(text, Message):
        return str(text)
    return {
        "message": text.code,
        "params": {k: _param_json(v) for k, v in text.params.items()},
        "en": str.__str__(text),
    }


def from_json(value: Any) -> str:
    """The message `to_json` stored; one whose id the catalogue no longer has comes back as its English."""
    if isinstance(value, Mapping) and "message" in value:
        if value["message"] in CATALOGUE:
            params = {k: _param_from_json(v) for k, v in (value.get("params") or {}).items()}
            return Message(value["message"], **params)
        return str(value.get("en", value["message"]))
    return str(value)


def _param_json(value: Any) -> Any:
    if isinstance(value, Message):
        return to_json(value)
    if isinstance(value, list | tuple):
        return [_param_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _param_json(item) for key, item in value.items()}
    if (
        value is None
        or isinstance(value, str | bool | int)
        or (isinstance(value, float) and math.isfinite(value))
    ):
        return value
    # A decimal (an amount below its minimum), a date, NaN: templates show each as its text anyway.
    return str(value)


def _param_from_json(value: Any) -> Any:
    if isinstance(value, Mapping) and "message" in value:
        return from_json(value)
    if isinstance(value, list):
        return [_param_from_json(item) for item in value]
    return value


def _fill(code: str, locale: str, params: Mapping[str, Any]) -> str:
    templates = CATALOGUE[code]
    return _Filler(locale).vformat(templates.get(locale) or templates["en"], (), params)


class _Filler(Formatter):
    """Fills a template in one language; a list parameter's format spec is its separator ("{rows:; }")."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, list | tuple):
            separator = format_spec or _JOINERS.get(self.locale, ", ")
            return separator.join(self.format_field(item, "") for item in value)
        if isinstance(value, Message):
            return value.in_locale(self.locale)
        if isinstance(value, Mapping):  # a label: {"en": …, "zh_CN": …}
            return value.get(self.locale) or value.get("en") or next(iter(value.values()), "")
        return str(value)


#: Metadata problems arrive as English text: the metadata layer cannot carry catalogue ids. Each is read
#: back against these templates to be said in another language. A parameter named `*_q` is a quoted
#: name or text, one in _WORDS a single word; one starting with `_` is itself a phrase said in the
#: reader's language.
PROBLEMS: dict[str, dict[str, str]] = {
    "in_expression": {"en": "{_problem} in {text_q}", "zh_CN": "{_problem}（表达式 {text_q}）"},
    "did_you_mean": {
        "en": "{_problem} (did you mean {name_q}?)",
        "zh_CN": "{_problem}（是否要用 {name_q}？）",
    },
    "unknown_field": {"en": "unknown field {name_q}", "zh_CN": "没有字段 {name_q}"},
    "unknown_field_hint": {
        "en": "unknown field {name_q}: did you mean {other_q}?",
        "zh_CN": "没有字段 {name_q}，是否要用 {other_q}？",
    },
    "unknown_function": {"en": "unknown function {name}()", "zh_CN": "没有函数 {name}()"},
    "unknown_function_hint": {
        "en": "unknown function {name}(): did you mean {other}()?",
        "zh_CN": "没有函数 {name}()，是否要用 {other}()？",
    },
    "is_a_function": {
        "en": "{name} is a function: call it as {call}(...)",
        "zh_CN": "{name} 是函数，请写成 {call}(...)",
    },
    "syntax_error": {"en": "syntax error: {_detail}", "zh_CN": "语法错误：{_detail}"},
    "invalid_syntax": {"en": "invalid syntax", "zh_CN": "语法无效"},
    "never_closed": {"en": "'{bracket}' was never closed", "zh_CN": "括号 {bracket} 没有闭合"},
    "unmatched": {"en": "unmatched '{bracket}'", "zh_CN": "多余的括号 {bracket}"},
    "gives_kind": {
        "en": "gives {_kind}, but {_wanted} is {_expected}",
        "zh_CN": "结果是{_kind}，但{_wanted}应为{_expected}",
    },
    "the_declared_result": {"en": "the declared result", "zh_CN": "声明的结果类型"},
    "the_field_kind": {"en": "the field {field}'s kind", "zh_CN": "字段 {field} 的类型"},
    "cannot_use_on": {
        "en": "cannot use {op} on {_left} and {_right} in {shown}",
        "zh_CN": "{shown} 中不能对{_left}和{_right}使用 {op}",
    },
    "cannot_use_on_text": {
        "en": "cannot use {op} on {_left} and {_right} in {shown}: make the number text first, e.g. text(x)",
        "zh_CN": "{shown} 中不能对{_left}和{_right}使用 {op}：请先把数字转为文本，如 text(x)",
    },
    "kind_text": {"en": "text", "zh_CN": "文本"},
    "kind_number": {"en": "number", "zh_CN": "数字"},
    "kind_date": {"en": "date", "zh_CN": "日期"},
    "kind_datetime": {"en": "datetime", "zh_CN": "日期时间"},
    "kind_boolean": {"en": "boolean", "zh_CN": "是/否"},
    "kind_list": {"en": "list", "zh_CN": "列表"},
    "kind_id": {"en": "id", "zh_CN": "记录编号"},
    "kind_condition": {"en": "condition", "zh_CN": "条件（真或假）"},
    "bad_name": {
        "en": "{found} is not valid: names are lowercase identifiers: a letter a-z, "
        "then letters a-z, digits or _ ({limit} characters at most)",
        "zh_CN": "{found} 无效：名称须以小写字母 a-z 开头，其后为小写字母、数字或 _（最多 {limit} 个字符）",
    },
    "not_valid": {"en": "{found} is not valid: {_hint}", "zh_CN": "{found} 无效：{_hint}"},
    "choose_another_field_name": {
        "en": "{_reason}; choose another field name",
        "zh_CN": "{_reason}；请换一个字段名",
    },
    "choose_another_object_name": {
        "en": "{_reason}; choose another object name",
        "zh_CN": "{_reason}；请换一个对象名",
    },
    "field_defined_at": {
        "en": "field {name_q} is already defined at {path}",
        "zh_CN": "字段 {name_q} 已在 {path} 定义",
    },
    "object_exists": {"en": "an object named {name_q} exists already", "zh_CN": "已有名为 {name_q} 的对象"},
    "unknown_type": {
        "en": "unknown field type {type_q}; known types: {types}",
        "zh_CN": "没有字段类型 {type_q}；可用的类型：{types}",
    },
    "not_empty": {"en": "must not be empty", "zh_CN": "不能为空"},
    "option_used": {
        "en": "option value {value_q} is already used by option {index}",
        "zh_CN": "选项值 {value_q} 已被选项 {index} 使用",
    },
    "looks_up": {"en": "field {name_q} looks up {_missing}", "zh_CN": "字段 {name_q} 关联的{_missing}"},
    "rollup_reads": {"en": "rollup {name_q} reads {_missing}", "zh_CN": "汇总字段 {name_q} 读取的{_missing}"},
    "missing_object": {
        "en": "object {name_q}, which is neither in this package nor installed",
        "zh_CN": "对象 {name_q} 既不在本包中，也未安装",
    },
    "key_required": {"en": "{key_q} is required", "zh_CN": "缺少 {key_q}"},
    "no_field": {
        "en": "object {object_q} has no field {name_q}",
        "zh_CN": "对象 {object_q} 没有字段 {name_q}",
    },
    "purpose_title": {"en": "title field: {_problem}", "zh_CN": "标题字段：{_problem}"},
    "purpose_search": {"en": "search field: {_problem}", "zh_CN": "搜索字段：{_problem}"},
    "rollup_needs": {
        "en": "{function} needs {_what}, but {field} is a {type} field",
        "zh_CN": "{function} 需要{_what}，但 {field} 是 {type} 字段",
    },
    "numbers": {"en": "numbers", "zh_CN": "数字"},
    "numbers_or_dates": {"en": "numbers or dates", "zh_CN": "数字或日期"},
    "rollup_not_lookup": {
        "en": "{field} is a {type} field, not a lookup",
        "zh_CN": "{field} 是 {type} 字段，不是关联字段",
    },
    "rollup_other_target": {
        "en": "{field} looks up {target_q}, not {object_q}, so rollup {name_q} cannot follow it back here",
        "zh_CN": "{field} 关联的是 {target_q} 而不是 {object_q}，汇总字段 {name_q} 无法由它汇总到这里",
    },
    "computed_required": {
        "en": "a {_type} field is computed from related records, so it cannot be required",
        "zh_CN": "{_type}字段由相关记录计算得出，不能设为必填",
    },
    "computed_default": {
        "en": "a {_type} field is computed from related records, so it cannot have a default",
        "zh_CN": "{_type}字段由相关记录计算得出，不能有默认值",
    },
    "must_be_not": {"en": "must be {_wanted}, not {_found}", "zh_CN": "应为{_wanted}，而不是{_found}"},
    "an_object": {"en": "an object", "zh_CN": "对象"},
    "a_list": {"en": "a list", "zh_CN": "列表"},
    "a_string": {"en": "a string", "zh_CN": "文本"},
    "a_whole_number": {"en": "a whole number", "zh_CN": "整数"},
    "a_number": {"en": "a number", "zh_CN": "数字"},
    "true_or_false": {"en": "true or false", "zh_CN": "布尔值（true 或 false）"},
    "unknown_key": {
        "en": "unknown key {key_q}; a {type} field takes {keys}",
        "zh_CN": "未知的键 {key_q}；{type} 字段可用的键：{keys}",
    },
    "unknown_key_bare": {"en": "unknown key {key_q}", "zh_CN": "未知的键 {key_q}"},
    "max_below_min": {"en": "max {high} is below min {low}", "zh_CN": "最大值 {high} 小于最小值 {low}"},
    "one_counter": {
        "en": "needs exactly one counter token such as {{0000}}, found {_found}",
        "zh_CN": "需要恰好一个计数占位符（如 {{0000}}），现有 {_found}",
    },
    "none": {"en": "none", "zh_CN": "无"},
    "type_rollup": {"en": "rollup", "zh_CN": "汇总"},
    "type_formula": {"en": "formula", "zh_CN": "公式"},
    "not_one_of": {"en": "{found} is not one of {choices}", "zh_CN": "{found} 不在可选值 {choices} 之中"},
    "not_a_condition": {
        "en": "must be true or false, but {shown} gives {_kind}: {_hint}",
        "zh_CN": "应为真或假，但 {shown} 的结果是{_kind}：{_hint}",
    },
    "compare_with_value": {"en": "compare it with a value", "zh_CN": "请把它与某个值比较"},
    "compare_like": {"en": "compare it, e.g. {example}", "zh_CN": "请比较它，如 {example}"},
    # Reports, as the report builder shows them.
    "chart_draws": {
        "en": "a {_chart} chart draws {_wanted}, but the report has {count}",
        "zh_CN": "{_chart}应有{_wanted}，但报表有 {count} 个分组",
    },
    "chart_bar": {"en": "bar", "zh_CN": "柱状图"},
    "chart_line": {"en": "line", "zh_CN": "折线图"},
    "chart_pie": {"en": "pie", "zh_CN": "饼图"},
    "chart_funnel": {"en": "funnel", "zh_CN": "漏斗图"},
    "chart_table": {"en": "table", "zh_CN": "表格"},
    "no_groups": {"en": "no groups", "zh_CN": "0 个分组"},
    "one_group_count": {"en": "{count} group", "zh_CN": "{count} 个分组"},
    "groups_between": {"en": "{low} to {high} groups", "zh_CN": "{low} 到 {high} 个分组"},
    "number_chart_one_measure": {
        "en": "a number chart shows one measure",
        "zh_CN": "单个数字只能显示一个度量",
    },
    "bucket_needs_date": {
        "en": "a {bucket} bucket needs a date or datetime field, but {name_q} is {type}",
        "zh_CN": "时间粒度需要日期或日期时间字段，但 {name_q} 是 {type}",
    },
    "cannot_group_by": {
        "en": "cannot group by {name_q}: a {type} field has no single value to group on",
        "zh_CN": "不能按 {name_q} 分组：{type} 字段没有单一的值",
    },
    "already_a_group": {
        "en": "{name_q} is already a group at {path}",
        "zh_CN": "{name_q} 已经是分组（{path}）",
    },
    "second_column": {
        "en": "a second column named {name_q} (first at {path}): give it a name",
        "zh_CN": "第二个名为 {name_q} 的列（第一个在 {path}）：请给它另起名称",
    },
    "sort_not_a_column": {
        "en": "sorts by {name_q}, which is not a column; the columns are {columns}",
        "zh_CN": "按 {name_q} 排序，但它不是报表的列；报表的列：{columns}",
    },
    "no_role": {"en": "there is no role {name_q}", "zh_CN": "没有角色 {name_q}"},
    "shared_with_no_role": {
        "en": "a report shared with roles names at least one role",
        "zh_CN": "按角色共享的报表至少要选一个角色",
    },
    "roles_not_for": {
        "en": "roles are for a report shared with roles, not {how}",
        "zh_CN": "只有按角色共享的报表才选择角色",
    },
    "private_needs_owner": {
        "en": "a private report names its owner: the username of who may run it",
        "zh_CN": "私有报表需要负责人：可以运行它的用户的用户名",
    },
    "owner_only_private": {"en": "an owner is for a private report", "zh_CN": "只有私有报表才有负责人"},
    "period_needs_date": {
        "en": "a period needs a date or datetime field, but {name_q} is {type}",
        "zh_CN": "期间需要日期或日期时间字段，但 {name_q} 是 {type}",
    },
}


def localize_problem(text: str, locale: str) -> str:
    """A metadata problem's English text in `locale`; text no template reads comes back as it is."""
    if isinstance(text, Message):
        return text.in_locale(locale)
    if locale == "en" or len(text) > _LONGEST_PROBLEM:
        return str(text)
    for code, pattern in _problem_patterns():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        params = {
            name: localize_problem(value, locale) if name.startswith("_") else value
            for name, value in found.groupdict().items()
        }
        return _Filler(locale).vformat(PROBLEMS[code].get(locale) or PROBLEMS[code]["en"], (), params)
    return str(text)


_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
# Parameters that are one word (a name, a number, a kind): matching them cannot run across the text.
_WORDS = {"bracket", "call", "field", "function", "high", "index", "limit", "low", "name", "op", "other"}
_WORDS |= {"path", "type", "_kind", "_left", "_right", "_expected", "_type"}
# Longer text is said as it is: reading it back would cost more than it is worth.
_LONGEST_PROBLEM = 2000


@cache
def _problem_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each template as a pattern: wrappers first (they end in what they wrap), then the most literal
    first, so a specific reading beats a general one."""
    found = []
    for code, templates in PROBLEMS.items():
        regex, literal = "", 0
        for text, name, _spec, _conversion in Formatter().parse(templates["en"]):
            regex += re.escape(text)
            literal += len(text)
            if name:
                shape = _QUOTED if name.endswith("_q") else r"\S+?" if name in _WORDS else ".+?"
                regex += f"(?P<{name}>{shape})"
        wrapper = templates["en"].startswith("{_")
        found.append((not wrapper, -literal, code, re.compile(regex, re.S)))
    return [(code, pattern) for *_order, code, pattern in sorted(found)]
