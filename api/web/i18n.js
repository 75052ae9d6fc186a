// Every piece of UI text, in Chinese (default) and English. Pages call t(key); static HTML
// carries data-i18n="key" (text) or data-i18n-title / data-i18n-placeholder (attributes).
// A key missing from a language falls back to Chinese, then to the key itself, so a raw
// server value (a queue id nobody named) still shows as something readable.

const zh = {
  'app.name': '12333 热线', 'app.supervisor': '班长席', 'app.agent': '坐席工作台',
  'lang.switch': 'English', 'signout': '退出系统', 'loading': '加载中…',
  'login.title': '登录', 'login.username': '用户名', 'login.password': '密码', 'login.submit': '登录',
  'login.failed': '登录失败', 'login.no_console': '该账号没有坐席或班长角色，无法使用控制台。',
  'login.network': '无法连接服务器',
  'conn.open': '已连接', 'conn.closed': '连接中断，正在重连…', 'conn.connecting': '正在连接…',
  'conn.refused': '服务器拒绝了控制台：', 'conn.shutdown': '服务器即将重启',
  'state.logged_out': '未登录', 'state.logged_in': '已签入', 'state.not_ready': '置忙', 'state.ready': '就绪',
  'state.ringing': '振铃', 'state.talking': '通话', 'state.wrap_up': '话后处理',
  'reason.break': '休息', 'reason.training': '培训', 'reason.meeting': '会议', 'reason.after_call': '话后',
  'reason.other': '其他',
  'call.ivr': '语音导航', 'call.queued': '排队', 'call.ringing': '振铃', 'call.connected': '通话中',
  'call.transferring': '转接中', 'call.survey': '满意度评价', 'call.dialling': '外呼中',
  'cls.consultation': '咨询', 'cls.complaint': '投诉', 'cls.report': '举报', 'cls.suggestion': '建议',
  'cls.query': '查询', 'cls.callback': '回电', 'cls.other': '其他',
  'topic.pension': '养老保险', 'topic.medical': '医疗保险', 'topic.unemployment': '失业保险',
  'topic.work_injury': '工伤保险', 'topic.maternity': '生育保险', 'topic.employment': '就业',
  'topic.labour_relations': '劳动关系', 'topic.card': '社保卡', 'topic.exams': '人事考试', 'topic.other': '其他',
  // the embedded IVR's skills that are queues without a topic of the same id (actors/call/ivr.cpp)
  'topic.social_security_card': '社保卡', 'topic.personnel': '人事人才', 'topic.complaint': '投诉举报',
  'topic.general': '综合咨询',
  'alarm.bottom_line': '低于底线', 'alarm.long_wait': '等待过长', 'alarm.dangerous_call': '危险电话',
  'alarm.agent_offline': '坐席话机离线', 'alarm.none': '无告警',
  'q.open': '服务中', 'q.closed': '非服务时间', 'q.waiting': '排队', 'q.longest': '最长等待',
  'q.sl': '服务水平(30秒)', 'q.answer_rate': '接通率', 'q.abandon_rate': '放弃率', 'q.staffed': '在岗/底线',
  'q.none': '暂无队列',
  'sup.queues': '队列', 'sup.agents': '坐席', 'sup.calls': '当前通话', 'sup.alarms': '告警',
  'sup.wallboard': '大屏模式', 'sup.desk': '桌面模式', 'sup.sound_on': '提示音：开', 'sup.sound_off': '提示音：关', 'sup.sound_enable': '点击启用提示音',
  'sup.no_calls': '当前没有通话', 'sup.no_agents': '名册为空',
  'rec.title': '通话记录', 'rec.number': '来电号码', 'rec.agent': '坐席工号', 'rec.refresh': '刷新', 'rec.more': '更多',
  'rec.started': '开始时间', 'rec.wait': '等待', 'rec.talk': '通话', 'rec.survey': '评价', 'rec.recording': '录音',
  'rec.play': '播放', 'rec.encoding': '编码中', 'rec.none': '没有符合条件的通话',
  'survey.1': '满意', 'survey.2': '基本满意', 'survey.3': '不满意', 'outcome.interrupted': '系统中断',
  'agent.phone_on': '话机在线', 'agent.phone_off': '话机离线', 'agent.call': '通话',
  'act.force_not_ready': '强制置忙', 'act.force_logout': '强制签出', 'act.message': '发消息',
  'act.listen': '监听', 'act.whisper': '耳语', 'act.barge': '强插', 'act.takeover': '接管',
  'act.stop': '结束监听', 'act.cancel': '取消', 'act.ok': '确定', 'act.send': '发送', 'act.close': '关闭',
  'act.via_phone': '用我的话机', 'act.my_phone': '我的话机号码',
  'col.from': '来电号码', 'col.queue': '队列', 'col.state': '状态', 'col.agent': '坐席',
  'col.duration': '时长', 'col.actions': '操作',
  'dlg.force_not_ready': '强制置忙：{agent}', 'dlg.force_logout': '确定将坐席 {agent} 强制签出？',
  'dlg.message': '发送消息给 {agent}', 'dlg.reason': '原因',
  'mon.title': '监听', 'mon.call': '通话', 'mon.mode': '方式', 'mon.via': '途径', 'mon.in': '收听',
  'mon.mic': '话筒', 'mon.via_browser': '浏览器', 'mon.via_phone': '话机',
  'mon.no_webcodecs': '此浏览器不能在本页面播放或发送语音（需要 HTTPS 或 localhost，以及 WebCodecs Opus）。请使用“用我的话机”。',
  'mon.no_mic': '无法使用话筒：{error}', 'mon.ended': '监听已结束', 'mon.phone_needed': '请填写我的话机号码',
  'mon.by': '{by} 正在{mode}', 'mon.calling_phone': '正在呼叫您的话机 {phone}，请接听…',
  'err.command': '操作失败：{error}', 'err.timeout': '服务器没有回应', 'err.disconnected': '连接已断开',
  'ag.title': '坐席', 'ag.work_id': '工号', 'ag.login': '签入', 'ag.ready': '就绪', 'ag.not_ready': '置忙',
  'ag.wrap_up_done': '话后处理完成', 'ag.logout': '签出', 'ag.reason': '置忙原因', 'ag.queues': '技能队列',
  'pop.title': '当前来电', 'pop.none': '暂无来电', 'pop.from': '来电号码', 'pop.dialled': '被叫',
  'pop.ivr': '语音导航', 'pop.digits': '按键', 'pop.wait': '等待时长', 'pop.duration': '来电时长',
  'pop.ended': '通话已结束（{by}先挂机）', 'pop.ended_plain': '通话已结束', 'pop.history': '历史来电', 'pop.no_history': '无历史来电',
  'pop.released.caller': '来电者', 'pop.released.agent': '坐席', 'pop.released.system': '系统',
  'pop.withdrawn': '来电已转给其他坐席',
  'hist.time': '时间', 'hist.outcome': '结果', 'hist.agent': '坐席', 'hist.cls': '分类', 'hist.note': '备注',
  'outcome.answered': '已接听', 'outcome.abandoned': '放弃', 'outcome.missed': '未接',
  'outcome.abandoned_in_ivr': '导航中挂机', 'outcome.abandoned_in_queue': '排队中挂机', 'outcome.after_hours': '非服务时间',
  'outcome.callback': '留言待回电', 'outcome.callback_answered': '回电已接通', 'outcome.callback_no_answer': '回电无人接听',
  'outcome.callback_busy': '回电遇忙', 'outcome.callback_agent_no_answer': '回电坐席未接', 'outcome.failed': '失败',
  'cf.title': '来电分类', 'cf.classification': '分类', 'cf.topic': '业务', 'cf.note': '备注',
  'cf.save': '保存', 'cf.saving': '保存中…', 'cf.saved': '已保存', 'cf.failed': '保存失败：{error}',
  'cf.choose': '请选择',
  'tr.title': '转接', 'tr.to': '转给', 'tr.supervisor': '班长', 'tr.expert': '专家席', 'tr.queue': '其他队列',
  'tr.target': '号码或队列', 'tr.go': '转接', 'tr.sent': '转接已发起', 'tr.announce': '转接前请先告知来电者。',
  'fl.dangerous': '标记危险电话', 'fl.harassing': '标记骚扰电话',
  'fl.confirm_dangerous': '确认这是危险电话（来电者威胁伤害自己或他人）？班长会立即收到告警，录音将被保留。',
  'fl.done': '已标记', 'fl.harassing_done': '已记录，待班长审核',
  'msg.from': '{from} 的消息', 'msg.dismiss': '知道了',
  'kb.title': '知识库', 'kb.query': '输入来电者的问题', 'kb.search': '搜索', 'kb.none': '没有找到结果',
  'kb.total': '共 {n} 条', 'kb.answer': '统一答复口径', 'kb.materials': '所需材料（一次性告知）',
  'kb.no_materials': '无需材料', 'kb.sources': '政策依据', 'kb.effective': '生效', 'kb.expires': '失效',
  'kb.used': '已在本次通话中使用', 'kb.use': '用于本次通话', 'kb.back': '返回结果',
  'region.national': '全国', 'region.province': '全省',
  'ph.title': '服务用语', 'ph.standard': '规范用语', 'ph.forbidden': '服务忌语', 'ph.instead': '应说：',
  'ph.failed': '无法加载服务用语',
  'ph.fill': '请填写：{name}',
  'cb.title': '回电', 'cb.refresh': '刷新', 'cb.call_back': '回电', 'cb.calling': '回电中…', 'cb.badge': '回电',
  'cb.none': '暂无待回电的请求', 'cb.failed': '无法加载回电列表：{error}',
  'cb.never': '尚未回电', 'cb.attempts': '已回电 {n} 次', 'cb.last_by': '{time} 坐席 {agent}',
  'cb.needs_login': '签入后才能回电', 'cb.on_call': '通话中不能回电', 'cb.busy': '正在回电',
  'cb.setting_not_ready': '正在置忙…', 'cb.starting': '正在发起回电…',
  'cb.ringing_you': '请摘机：正在呼叫您的话机，接听后拨打 {number}', 'cb.dialling': '正在拨打 {number}…',
  'cb.connected': '已接通 {number}', 'cb.finished': '回电 {number} 已完成',
  'cb.not_connected': '回电 {number} 未接通：{result}', 'cb.unknown': '回电 {number} 的结果未知，请刷新',
  'cb.refused': '无法回电：{error}',
  'cbr.no_answer': '无人接听', 'cbr.busy': '忙', 'cbr.agent_no_answer': '坐席未接', 'cbr.done': '已完成',
  'cbr.agent_left': '坐席先挂机', 'cbr.agent_phone_unusable': '坐席话机不可用', 'cbr.caller_media_unusable': '对方线路不可用',
  'ago.now': '刚刚', 'ago.min': '{n} 分钟前', 'ago.hour': '{n} 小时前', 'ago.day': '{n} 天前',
  'when.greeting': '开头语', 'when.check_understanding': '确认理解', 'when.anything_else': '其他需求',
  'when.ask_repeat': '请求重复', 'when.closing': '结束语', 'when.hold': '请稍候', 'when.thanks_for_waiting': '感谢等待',
  'when.ask_caller_name': '询问姓名', 'when.ask_caller_info': '询问信息', 'when.form_start': '开始填表',
  'when.form_last_questions': '最后问题', 'when.ask_extension': '询问分机', 'when.confirm_details': '复述确认',
  'when.form_accepted': '受理完成', 'when.caller_refuses_info': '来电者不愿提供信息', 'when.caller_unsure_of_info': '来电者信息不确切',
  'when.refer_employment_assistance': '转介就业援助', 'when.refer_labor_inspection': '转介劳动监察',
  'when.accept_as_report': '作为举报受理', 'when.out_of_scope': '非本中心业务', 'when.transfer_to_supervisor': '转接监理',
  'when.transfer_to_expert': '转接专家席', 'when.transfer_accepted': '同意转接', 'when.transfer_declined': '不同意转接',
  'when.cannot_answer_now': '暂时无法答复', 'when.caller_angry': '来电者情绪激动', 'when.thanks_for_understanding': '感谢理解',
  'when.feedback_thanks': '感谢意见', 'when.feedback_important': '重视意见', 'when.system_fault': '系统故障致歉',
  'when.computer_crash': '电脑故障', 'when.application_down': '系统停用', 'when.callback': '回电开头语',
  'when.complaint_about_staff_apology': '投诉工作人员：致歉', 'when.complaint_about_staff_followup': '投诉工作人员：续答',
  'when.complaint_transfer_to_supervisor': '投诉：转接监理', 'when.complaint_about_staff_recorded': '投诉工作人员：已记录',
  'when.complaint_external_recorded': '外部投诉：已记录', 'when.complaint_external_followup': '外部投诉：跟进',
  'when.policy_not_defined': '政策未明确', 'when.refer_to_office': '转介经办窗口', 'when.asked_which_office': '询问单位',
  'when.asked_to_predict_outcome': '要求预判结果', 'when.complaint_about_waiting': '抱怨难打通', 'when.asked_name': '询问坐席姓名',
  'when.asked_specific_agent': '指定坐席', 'when.specific_agent_insisted': '坚持指定坐席', 'when.specific_agent_busy': '指定坐席忙',
  'when.silent_line': '无声电话',
  'dur.none': '—',
};

const en = {
  'app.name': '12333 Hotline', 'app.supervisor': 'Supervisor', 'app.agent': 'Agent desktop',
  'lang.switch': '中文', 'signout': 'Sign out', 'loading': 'Loading…',
  'login.title': 'Sign in', 'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Sign in',
  'login.failed': 'Sign-in failed', 'login.no_console': 'This account has neither the agent nor a supervisor role.',
  'login.network': 'Cannot reach the server',
  'conn.open': 'Connected', 'conn.closed': 'Disconnected, reconnecting…', 'conn.connecting': 'Connecting…',
  'conn.refused': 'The server refused the console: ', 'conn.shutdown': 'Server restarting',
  'state.logged_out': 'Logged out', 'state.logged_in': 'Logged in', 'state.not_ready': 'Not ready',
  'state.ready': 'Ready', 'state.ringing': 'Ringing', 'state.talking': 'Talking', 'state.wrap_up': 'Wrap-up',
  'reason.break': 'Break', 'reason.training': 'Training', 'reason.meeting': 'Meeting',
  'reason.after_call': 'After call', 'reason.other': 'Other',
  'call.ivr': 'IVR', 'call.queued': 'Queued', 'call.ringing': 'Ringing', 'call.connected': 'Connected',
  'call.transferring': 'Transferring', 'call.survey': 'Survey', 'call.dialling': 'Dialling',
  'cls.consultation': 'Consultation', 'cls.complaint': 'Complaint', 'cls.report': 'Report',
  'cls.suggestion': 'Suggestion', 'cls.query': 'Query', 'cls.callback': 'Callback', 'cls.other': 'Other',
  'topic.pension': 'Pension', 'topic.medical': 'Medical insurance', 'topic.unemployment': 'Unemployment',
  'topic.work_injury': 'Work injury', 'topic.maternity': 'Maternity', 'topic.employment': 'Employment',
  'topic.labour_relations': 'Labour relations', 'topic.card': 'Social security card',
  'topic.exams': 'Personnel exams', 'topic.other': 'Other',
  'topic.social_security_card': 'Social security card', 'topic.personnel': 'Personnel and talent',
  'topic.complaint': 'Complaints and reports', 'topic.general': 'General enquiries',
  'alarm.bottom_line': 'Below minimum', 'alarm.long_wait': 'Long wait', 'alarm.dangerous_call': 'Dangerous call',
  'alarm.agent_offline': 'Agent phone offline', 'alarm.none': 'No alarms',
  'q.open': 'Open', 'q.closed': 'Closed', 'q.waiting': 'Waiting', 'q.longest': 'Longest wait',
  'q.sl': 'SL 30 s', 'q.answer_rate': 'Answered', 'q.abandon_rate': 'Abandoned',
  'q.staffed': 'Working/minimum', 'q.none': 'No queues',
  'sup.queues': 'Queues', 'sup.agents': 'Agents', 'sup.calls': 'Live calls', 'sup.alarms': 'Alarms',
  'sup.wallboard': 'Wallboard', 'sup.desk': 'Desk view', 'sup.sound_on': 'Sound: on', 'sup.sound_off': 'Sound: off', 'sup.sound_enable': 'Click to enable sound',
  'sup.no_calls': 'No calls right now', 'sup.no_agents': 'The roster is empty',
  'rec.title': 'Call records', 'rec.number': 'Caller number', 'rec.agent': 'Agent work id', 'rec.refresh': 'Refresh', 'rec.more': 'More',
  'rec.started': 'Started', 'rec.wait': 'Wait', 'rec.talk': 'Talk', 'rec.survey': 'Survey', 'rec.recording': 'Recording',
  'rec.play': 'Play', 'rec.encoding': 'Encoding', 'rec.none': 'No calls match',
  'survey.1': 'Satisfied', 'survey.2': 'Fairly satisfied', 'survey.3': 'Dissatisfied', 'outcome.interrupted': 'Interrupted',
  'agent.phone_on': 'Phone online', 'agent.phone_off': 'Phone offline', 'agent.call': 'Call',
  'act.force_not_ready': 'Not ready…', 'act.force_logout': 'Log out…', 'act.message': 'Message…',
  'act.listen': 'Listen', 'act.whisper': 'Whisper', 'act.barge': 'Barge', 'act.takeover': 'Take over',
  'act.stop': 'Stop', 'act.cancel': 'Cancel', 'act.ok': 'OK', 'act.send': 'Send', 'act.close': 'Close',
  'act.via_phone': 'Via my phone', 'act.my_phone': 'My phone number',
  'col.from': 'Caller', 'col.queue': 'Queue', 'col.state': 'State', 'col.agent': 'Agent',
  'col.duration': 'Duration', 'col.actions': 'Actions',
  'dlg.force_not_ready': 'Force {agent} not ready', 'dlg.force_logout': 'Log agent {agent} out?',
  'dlg.message': 'Message to {agent}', 'dlg.reason': 'Reason',
  'mon.title': 'Monitoring', 'mon.call': 'Call', 'mon.mode': 'Mode', 'mon.via': 'Via', 'mon.in': 'In',
  'mon.mic': 'Mic', 'mon.via_browser': 'browser', 'mon.via_phone': 'phone',
  'mon.no_webcodecs': 'This browser cannot play or send audio on this page (needs HTTPS or localhost and WebCodecs Opus). Use "Via my phone".',
  'mon.no_mic': 'Microphone unavailable: {error}', 'mon.ended': 'Monitoring ended',
  'mon.phone_needed': 'Enter your phone number', 'mon.by': '{by}: {mode}',
  'mon.calling_phone': 'Calling your phone {phone}, please answer…',
  'err.command': 'Failed: {error}', 'err.timeout': 'The server did not answer', 'err.disconnected': 'Disconnected',
  'ag.title': 'Agent', 'ag.work_id': 'Work id', 'ag.login': 'Log in', 'ag.ready': 'Ready',
  'ag.not_ready': 'Not ready', 'ag.wrap_up_done': 'Wrap-up done', 'ag.logout': 'Log out',
  'ag.reason': 'Reason', 'ag.queues': 'Queues',
  'pop.title': 'Current call', 'pop.none': 'No call', 'pop.from': 'Caller', 'pop.dialled': 'Dialled',
  'pop.ivr': 'IVR', 'pop.digits': 'Digits', 'pop.wait': 'Waited', 'pop.duration': 'Call time',
  'pop.ended': 'Call ended (released by {by})', 'pop.ended_plain': 'Call ended', 'pop.history': 'Earlier calls', 'pop.no_history': 'No earlier calls',
  'pop.released.caller': 'caller', 'pop.released.agent': 'agent', 'pop.released.system': 'system',
  'pop.withdrawn': 'The call went to another agent',
  'hist.time': 'Time', 'hist.outcome': 'Outcome', 'hist.agent': 'Agent', 'hist.cls': 'Class', 'hist.note': 'Note',
  'outcome.answered': 'Answered', 'outcome.abandoned': 'Abandoned', 'outcome.missed': 'Missed',
  'outcome.abandoned_in_ivr': 'Hung up in IVR', 'outcome.abandoned_in_queue': 'Hung up in queue',
  'outcome.after_hours': 'After hours', 'outcome.callback': 'Callback requested', 'outcome.callback_answered': 'Called back',
  'outcome.callback_no_answer': 'Callback: no answer', 'outcome.callback_busy': 'Callback: busy',
  'outcome.callback_agent_no_answer': 'Callback: agent did not answer', 'outcome.failed': 'Failed',
  'cf.title': 'Classification', 'cf.classification': 'Classification', 'cf.topic': 'Topic', 'cf.note': 'Note',
  'cf.save': 'Save', 'cf.saving': 'Saving…', 'cf.saved': 'saved', 'cf.failed': 'Save failed: {error}',
  'cf.choose': 'Choose…',
  'tr.title': 'Transfer', 'tr.to': 'To', 'tr.supervisor': 'Supervisor', 'tr.expert': 'Expert seat',
  'tr.queue': 'Another queue', 'tr.target': 'Phone or queue', 'tr.go': 'Transfer', 'tr.sent': 'Transfer started',
  'tr.announce': 'Tell the caller before transferring.',
  'fl.dangerous': 'Flag dangerous', 'fl.harassing': 'Flag harassing',
  'fl.confirm_dangerous': 'Flag this as a dangerous call (the caller threatens harm to self or others)? Supervisors are alerted at once and the recording is kept.',
  'fl.done': 'Flagged', 'fl.harassing_done': 'Noted for a supervisor\'s review',
  'msg.from': 'Message from {from}', 'msg.dismiss': 'Dismiss',
  'kb.title': 'Knowledge base', 'kb.query': 'The caller\'s question', 'kb.search': 'Search', 'kb.none': 'Nothing found',
  'kb.total': '{n} results', 'kb.answer': 'Unified answer', 'kb.materials': 'Required materials (tell all at once)',
  'kb.no_materials': 'No materials needed', 'kb.sources': 'Sources', 'kb.effective': 'Effective',
  'kb.expires': 'Expires', 'kb.used': 'Marked as used on this call', 'kb.use': 'Used on this call',
  'kb.back': 'Back to results', 'region.national': 'National', 'region.province': 'Province',
  'ph.title': 'Phrases', 'ph.standard': 'Standard phrases', 'ph.forbidden': 'Forbidden phrases',
  'ph.instead': 'Say instead: ', 'ph.failed': 'Could not load the phrases',
  'ph.fill': 'Fill in: {name}',
  'cb.title': 'Callbacks', 'cb.refresh': 'Refresh', 'cb.call_back': 'Call back', 'cb.calling': 'Calling…',
  'cb.badge': 'Callback', 'cb.none': 'No open callback requests', 'cb.failed': 'Could not load the callbacks: {error}',
  'cb.never': 'Not tried yet', 'cb.attempts': '{n} attempt(s)', 'cb.last_by': '{time} agent {agent}',
  'cb.needs_login': 'Log in to call back', 'cb.on_call': 'Not during a call', 'cb.busy': 'A callback is in progress',
  'cb.setting_not_ready': 'Setting you not ready…', 'cb.starting': 'Starting the callback…',
  'cb.ringing_you': 'Pick up: your phone is ringing; {number} is dialled when you answer',
  'cb.dialling': 'Dialling {number}…', 'cb.connected': 'Connected to {number}',
  'cb.finished': 'Callback to {number} done', 'cb.not_connected': 'Callback to {number} not connected: {result}',
  'cb.unknown': 'The callback to {number} has no result yet; refresh', 'cb.refused': 'Cannot call back: {error}',
  'cbr.no_answer': 'No answer', 'cbr.busy': 'Busy', 'cbr.agent_no_answer': 'Agent did not answer', 'cbr.done': 'Done',
  'cbr.agent_left': 'Agent hung up first', 'cbr.agent_phone_unusable': 'Agent phone unusable',
  'cbr.caller_media_unusable': 'Citizen line unusable',
  'ago.now': 'just now', 'ago.min': '{n} min ago', 'ago.hour': '{n} h ago', 'ago.day': '{n} d ago',
  'when.greeting': 'Greeting', 'when.check_understanding': 'Check understanding',
  'when.anything_else': 'Anything else', 'when.ask_repeat': 'Ask repeat', 'when.closing': 'Closing',
  'when.hold': 'Hold', 'when.thanks_for_waiting': 'Thanks for waiting', 'when.ask_caller_name': 'Ask caller name',
  'when.ask_caller_info': 'Ask caller info', 'when.form_start': 'Form start',
  'when.form_last_questions': 'Form last questions', 'when.ask_extension': 'Ask extension',
  'when.confirm_details': 'Confirm details', 'when.form_accepted': 'Form accepted',
  'when.caller_refuses_info': 'Caller refuses info', 'when.caller_unsure_of_info': 'Caller unsure of info',
  'when.refer_employment_assistance': 'Refer employment assistance',
  'when.refer_labor_inspection': 'Refer labor inspection', 'when.accept_as_report': 'Accept as report',
  'when.out_of_scope': 'Out of scope', 'when.transfer_to_supervisor': 'Transfer to supervisor',
  'when.transfer_to_expert': 'Transfer to expert', 'when.transfer_accepted': 'Transfer accepted',
  'when.transfer_declined': 'Transfer declined', 'when.cannot_answer_now': 'Cannot answer now',
  'when.caller_angry': 'Caller angry', 'when.thanks_for_understanding': 'Thanks for understanding',
  'when.feedback_thanks': 'Feedback thanks', 'when.feedback_important': 'Feedback important',
  'when.system_fault': 'System fault', 'when.computer_crash': 'Computer crash',
  'when.application_down': 'Application down', 'when.callback': 'Callback greeting',
  'when.complaint_about_staff_apology': 'Complaint about staff apology',
  'when.complaint_about_staff_followup': 'Complaint about staff followup',
  'when.complaint_transfer_to_supervisor': 'Complaint transfer to supervisor',
  'when.complaint_about_staff_recorded': 'Complaint about staff recorded',
  'when.complaint_external_recorded': 'Complaint external recorded',
  'when.complaint_external_followup': 'Complaint external followup', 'when.policy_not_defined': 'Policy not defined',
  'when.refer_to_office': 'Refer to office', 'when.asked_which_office': 'Asked which office',
  'when.asked_to_predict_outcome': 'Asked to predict outcome',
  'when.complaint_about_waiting': 'Complaint about waiting', 'when.asked_name': 'Asked name',
  'when.asked_specific_agent': 'Asked specific agent', 'when.specific_agent_insisted': 'Specific agent insisted',
  'when.specific_agent_busy': 'Specific agent busy', 'when.silent_line': 'Silent line',
  'dur.none': '—',
};

const dictionaries = { zh, en };
const STORAGE_KEY = 'hotline.lang';
const listeners = new Set();

function storedLang() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = dictionaries[storedLang()] ? storedLang() : 'zh';

export function lang() {
  return current;
}

// t('dlg.message', {agent: '1001'}) → '发送消息给 1001'.
export function t(key, params) {
  const text = dictionaries[current][key] ?? zh[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// A server value with a dictionary prefix: label('state', 'ready') → '就绪', unknown → the value.
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return '';
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

// Queue ids are usually topic ids (pension…); a region is national, province or city:<name>.
export function queueLabel(id) {
  return label('topic', id);
}

export function regionLabel(region) {
  if (typeof region === 'string' && region.startsWith('city:')) return region.slice(5);
  return label('region', region);
}

export function applyI18n(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
}

export function setLang(name) {
  if (!dictionaries[name] || name === current) return;
  current = name;
  try {
    localStorage.setItem(STORAGE_KEY, name);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  applyI18n();
  for (const fn of listeners) fn(name);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

// The header button: shows the other language's name and switches to it.
export function bindLangButton(button) {
  button.dataset.i18n = 'lang.switch';
  button.textContent = t('lang.switch');
  button.addEventListener('click', () => setLang(current === 'zh' ? 'en' : 'zh'));
}
