"""The vocabulary of the demo company: its departments, staff, product catalogue, cities and the
words its people write in follow-ups and tickets. Plain data; runtime/demo/data.py draws from it."""

from __future__ import annotations

from decimal import Decimal

# Departments as (key, name, parent key); the first one is the root.
DEPARTMENTS = [
    ("hq", "总部", None),
    ("sales1", "销售一部", "hq"),
    ("sales2", "销售二部", "hq"),
    ("service", "客服部", "hq"),
    ("finance", "财务部", "hq"),
    ("legal", "法务部", "hq"),
]

# Staff as (username, role, department key, heads the department, title shown in the credentials).
STAFF = [
    ("admin", "admin", "hq", False, "系统管理员"),
    ("ceo", "ceo", "hq", True, "总经理"),
    ("manager1", "sales_manager", "sales1", True, "销售一部经理"),
    ("manager2", "sales_manager", "sales2", True, "销售二部经理"),
    ("sales1", "sales_rep", "sales1", False, "销售代表"),
    ("sales2", "sales_rep", "sales1", False, "销售代表"),
    ("sales3", "sales_rep", "sales1", False, "销售代表"),
    ("sales4", "sales_rep", "sales2", False, "销售代表"),
    ("sales5", "sales_rep", "sales2", False, "销售代表"),
    ("sales6", "sales_rep", "sales2", False, "销售代表"),
    ("service1", "service_agent", "service", True, "客服主管"),
    ("service2", "service_agent", "service", False, "服务工程师"),
    ("finance", "finance", "finance", True, "财务"),
    ("legal", "legal", "legal", True, "法务"),
]

# Reps slow to answer new leads (one in each sales department), for the first-response report.
SLOW_RESPONDERS = frozenset({"sales3", "sales5"})
# Satisfaction scores given when a ticket is closed: installations ran late this year, and a
# complaint seldom ends in delight.
SATISFACTION = {"5": 45, "4": 35, "3": 12, "2": 5, "1": 3}
SATISFACTION_BY_CATEGORY = {
    "installation": {"5": 12, "4": 22, "3": 30, "2": 21, "1": 15},
    "complaint": {"5": 25, "4": 35, "3": 25, "2": 10, "1": 5},
}

# Which sales department covers which regions (customer.region values).
REGIONS_OF = {
    "sales1": ["east", "south"],
    "sales2": ["north", "central", "southwest", "northwest", "northeast"],
}
REGION_WEIGHTS = {
    "east": 30,
    "south": 20,
    "north": 18,
    "central": 12,
    "southwest": 10,
    "northwest": 5,
    "northeast": 5,
}
CITIES = {
    "east": ["上海", "杭州", "苏州", "南京", "宁波", "无锡", "合肥", "济南", "青岛"],
    "south": ["广州", "深圳", "东莞", "佛山", "厦门", "福州"],
    "north": ["北京", "天津", "石家庄", "太原"],
    "central": ["武汉", "长沙", "郑州", "南昌"],
    "southwest": ["成都", "重庆", "昆明", "贵阳"],
    "northwest": ["西安", "兰州", "银川"],
    "northeast": ["沈阳", "大连", "长春", "哈尔滨"],
}

# Industry value → the words a company of that industry has in its name.
INDUSTRY_WORDS = {
    "manufacturing": ["精密机械", "智能装备", "重工", "自动化设备"],
    "electronics": ["电子", "微电子", "光电科技", "电子元件"],
    "ict": ["信息技术", "网络科技", "数据科技"],
    "saas": ["软件", "云计算", "智能科技"],
    "education": ["教育科技", "培训学校", "职业教育"],
    "healthcare": ["医疗器械", "生物科技", "健康科技"],
    "consumer_goods": ["日化", "食品", "家电"],
    "logistics": ["物流", "供应链管理", "货运代理"],
    "home_building": ["建材", "家居", "装饰工程"],
    "chemicals": ["化工", "新材料", "涂料"],
    "energy": ["新能源", "电力设备", "储能科技"],
    "auto_parts": ["汽车零部件", "汽配", "车用电子"],
    "professional_services": ["咨询", "会计师事务所", "人力资源服务"],
    "government": ["市政工程", "公共服务中心"],
}
COMPANY_SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司"]
CUSTOMER_TAGS = ["大客户", "成长型", "长尾客户", "价格敏感", "技术导向", "高活跃", "低活跃"]
CONTACT_TITLES = [
    ("总经理", "decision_maker"),
    ("副总经理", "decision_maker"),
    ("采购经理", "purchaser"),
    ("采购专员", "purchaser"),
    ("技术总监", "influencer"),
    ("IT经理", "influencer"),
    ("财务经理", "finance"),
    ("生产主管", "end_user"),
    ("设备工程师", "end_user"),
]
CONTACT_DEPARTMENTS = {
    "decision_maker": "总经办",
    "purchaser": "采购部",
    "influencer": "技术部",
    "finance": "财务部",
    "end_user": "生产部",
}

# Products as (code, name, category, spec, unit, unit price, cost price, warranty months).
PRODUCTS = [
    ("ZJ-2000", "ZJ-2000 智能检测仪", "hardware", "ZJ-2000/标准型", "machine", "68000", "41000", 24),
    ("ZJ-3000", "ZJ-3000 在线视觉检测系统", "hardware", "ZJ-3000/双相机", "set", "186000", "118000", 24),
    ("CG-100", "CG-100 工业传感器模块", "hardware", "CG-100/4-20mA", "piece", "1280", "640", 12),
    ("KZ-500", "KZ-500 边缘控制网关", "hardware", "KZ-500/4G", "machine", "9800", "5600", 12),
    ("MES-STD", "MES 生产执行系统 标准版", "software", "50用户", "license", "120000", "30000", 12),
    ("MES-PRO", "MES 生产执行系统 专业版", "software", "200用户", "license", "360000", "90000", 12),
    ("CRM-SAAS", "云CRM 订阅", "software", "按用户/年", "year", "1200", "300", 0),
    ("BI-VIEW", "数据看板 BI 模块", "software", "不限用户", "license", "48000", "12000", 12),
    ("SV-IMPL", "实施服务", "service", "按人天", "hour", "1500", "700", 0),
    ("SV-MAINT", "年度维保服务", "service", "7×24小时响应", "year", "36000", "15000", 0),
    ("SV-TRAIN", "操作培训", "service", "每期20人", "set", "8000", "3000", 0),
    ("HC-PAPER", "检测打印耗材", "consumable", "10卷/箱", "box", "680", "300", 0),
    ("HC-LENS", "镜头保护片", "consumable", "50片/盒", "box", "450", "150", 0),
    ("BJ-BOARD", "主控板备件", "spare_part", "ZJ系列通用", "piece", "4200", "2100", 6),
    ("BJ-CAM", "工业相机备件", "spare_part", "500万像素", "piece", "7600", "4300", 12),
]

OPPORTUNITY_TOPICS = [
    "产线质检升级",
    "MES系统建设",
    "设备年度采购",
    "数字化工厂一期",
    "检测设备扩容",
    "维保服务续签",
    "新厂区设备配套",
    "数据看板项目",
    "CRM系统替换",
    "备品备件年度框架",
]
COMPETITORS = ["华测智能", "鼎捷软件", "用友", "金蝶", "海克斯康", "本地集成商", "无"]
NEXT_STEPS = [
    "约技术交流会",
    "提交方案与报价",
    "安排样机演示",
    "等待客户内部评审",
    "商务谈判价格与付款方式",
    "准备合同文本",
]

FOLLOWUP_SUBJECTS = {
    "call": ["电话沟通采购计划", "电话回访使用情况", "确认需求细节", "跟进报价反馈"],
    "visit": ["上门拜访客户", "现场勘查产线", "拜访技术负责人", "陪同领导拜访"],
    "wechat": ["微信发送产品资料", "微信沟通交付时间", "微信确认会议安排"],
    "email": ["邮件发送方案", "邮件发送报价单", "邮件确认合同条款"],
    "meeting": ["方案汇报会", "技术交流会", "商务谈判会议", "项目启动会"],
}
FOLLOWUP_CONTENT = {
    "positive": [
        "客户对方案整体认可，希望尽快安排演示。",
        "客户预算已批复，要求本月内给出正式报价。",
        "关键决策人表示优先考虑我们的产品。",
        "客户反馈试用效果良好，准备扩大采购范围。",
    ],
    "neutral": [
        "客户还在比较几家供应商，需要补充案例资料。",
        "采购流程较长，下月再跟进。",
        "客户提出了几个技术问题，已转技术支持解答。",
        "联系人出差，约定下周再沟通。",
    ],
    "negative": [
        "客户今年暂无预算，项目推迟到明年。",
        "客户认为价格偏高，倾向选择本地供应商。",
        "决策人调整，新负责人尚未表态。",
    ],
}
LOST_REASON_WEIGHTS = {"price": 35, "competitor": 25, "budget": 15, "no_decision": 15, "product_fit": 10}
CUSTOMER_LOST_REASONS = ["公司业务调整，不再采购同类产品", "被竞争对手低价替换", "客户经营困难，暂停合作"]

TICKETS = {
    "installation": ["新设备安装调试", "产线联调", "软件部署上线"],
    "repair": ["设备无法开机", "检测数据异常", "相机画面模糊", "网关频繁掉线"],
    "maintenance": ["季度保养巡检", "年度校准", "耗材更换"],
    "consultation": ["报表导出方法咨询", "新员工账号开通咨询", "参数设置咨询"],
    "complaint": ["维修响应太慢", "配件发货延迟"],
    "return_exchange": ["备件型号发错需更换", "耗材批次质量问题退换"],
}
SOLUTIONS = {
    "remote": "远程连接排查，调整参数后恢复正常。",
    "onsite": "工程师上门检修，更换损坏线缆后恢复。",
    "part_replaced": "更换主控板备件，设备运行正常。",
    "product_exchanged": "已为客户办理换货，新件已签收。",
    "explained": "已向客户说明操作步骤并发送操作手册。",
    "not_reproducible": "现场多次测试未复现，已加强监测，如再出现随时报修。",
}
FEEDBACK = {
    5: "响应很快，工程师很专业。",
    4: "问题解决了，整体满意。",
    3: "处理时间稍长。",
    2: "来回沟通多次才解决。",
    1: "很不满意，影响了生产。",
}
REJECT_REASONS = {
    "manager": "付款条件过于宽松，请与客户重新谈判首付款比例。",
    "legal": "违约责任条款对我方不利，请按标准合同模板修改。",
    "finance": "回款周期超过公司规定的90天，请调整付款计划。",
    "ceo": "折扣超出授权范围，请重新核算毛利后再提交。",
}
APPROVAL_COMMENTS = ["同意", "同意，注意回款节点", "已审核，同意", "条款无异议", "同意签署"]

TEN_THOUSAND = Decimal(10000)
