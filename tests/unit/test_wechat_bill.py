"""WeChat Pay's trade bill read as WeChat documents it (交易账单, bill_type ALL)."""
from __future__ import annotations

import pytest

from chalicelib.domain.wechat_bill import BillUnreadable, fen, parse_trade_bill

# A bill of the documented shape: the header, a payment, a refund of part of it, a second payment,
# a refund WeChat is still processing, every field behind a backtick, and the two summary lines.
BILL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2026-11-21 09:15:02,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001161202611218427437071,"
    "`O20261121011500ABCDEFGHJKMN,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`120.00,`0.00,`0,`0,"
    "`0.00,`0.00,`,`,`门票,`,`0.72000,`0.60%,`120.00,`0.00,`\r\n"
    "`2026-11-21 11:40:51,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001161202611218427437071,"
    "`O20261121011500ABCDEFGHJKMN,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300000012026112100000000001,`RABCDEFGHJKMNPQRS,`60.00,`0.00,`ORIGINAL,`SUCCESS,`门票,`,`-0.36000,`0.60%,"
    "`0.00,`60.00,`\r\n"
    "`2026-11-21 15:03:27,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001162202611218427437072,"
    "`O20261121070327PQRSTVWXYZ01,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6p,`JSAPI,`SUCCESS,`CMB_DEBIT,`CNY,`25.01,`0.00,`0,`0,"
    "`0.00,`0.00,`,`,`文创,`,`0.15000,`0.60%,`25.01,`0.00,`\r\n"
    "`2026-11-21 20:11:09,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001162202611218427437072,"
    "`O20261121070327PQRSTVWXYZ01,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6p,`JSAPI,`REFUND,`CMB_DEBIT,`CNY,`0.00,`0.00,"
    "`50300000012026112100000000002,`RTVWXYZ0123456789-2,`25.01,`0.00,`ORIGINAL,`PROCESSING,`文创,`,`-0.15000,"
    "`0.60%,`0.00,`25.01,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`4,`145.01,`85.01,`0.00,`0.36000,`145.01,`85.01\r\n")


def test_a_bill_written_as_wechat_documents_it() -> None:
    bill = parse_trade_bill(BILL)
    assert [(t.out_trade_no, t.amount, t.transaction_id) for t in bill.trades] == [
        ("O20261121011500ABCDEFGHJKMN", 12000, "4200001161202611218427437071"),
        ("O20261121070327PQRSTVWXYZ01", 2501, "4200001162202611218427437072")]
    assert [(r.out_refund_no, r.out_trade_no, r.amount, r.status) for r in bill.refunds] == [
        ("RABCDEFGHJKMNPQRS", "O20261121011500ABCDEFGHJKMN", 6000, "SUCCESS"),
        ("RTVWXYZ0123456789-2", "O20261121070327PQRSTVWXYZ01", 2501, "PROCESSING")]
    assert bill.summary == {"trades": 2, "amount": 14501, "refunds": 2, "refunded": 8501, "voucher": 0,
                            "settlement": 14501}
    assert {(t.voucher, t.settlement) for t in bill.trades} == {(0, 12000), (0, 2501)}


# A payment of 100.00 of which a WeChat voucher paid 15.00 (a 免充值 one: WeChat settles 85.00), and
# one of 30.00 with a 充值型 voucher of 5.00 (settled in full), as WeChat writes them.
VOUCHERS = BILL.replace("`4,`145.01,`85.01,`0.00,`0.36000,`145.01,`85.01", "`6,`260.01,`85.01,`0.00,`1.05000,`275.01,`85.01")
VOUCHERS = VOUCHERS.replace("总交易单数", (
    "`2026-11-21 16:00:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001163202611218427437073,"
    "`O20261121080000VOUCHER00001,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6q,`JSAPI,`SUCCESS,`OTHERS,`CNY,`85.00,`15.00,`0,`0,"
    "`0.00,`0.00,`,`,`门票,`,`0.51000,`0.60%,`100.00,`0.00,`\r\n"
    "`2026-11-21 16:30:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001163202611218427437074,"
    "`O20261121083000VOUCHER00002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6r,`JSAPI,`SUCCESS,`OTHERS,`CNY,`30.00,`5.00,`0,`0,"
    "`0.00,`0.00,`,`,`文创,`,`0.18000,`0.60%,`30.00,`0.00,`\r\n"
    "总交易单数"), 1)


def test_a_payment_a_wechat_voucher_paid_part_of_reads_as_its_total() -> None:
    """订单金额 is the trade's total (what the order cost), 代金券金额 what a voucher paid of it,
    应结订单金额 what WeChat settles: the total less a 免充值 voucher, the total with a 充值型 one."""
    bill = parse_trade_bill(VOUCHERS)
    free, recharged = bill.trades[2:]
    assert (free.out_trade_no, free.amount, free.voucher, free.settlement) == (
        "O20261121080000VOUCHER00001", 10000, 1500, 8500)
    assert (recharged.amount, recharged.voucher, recharged.settlement) == (3000, 500, 3000)
    assert bill.summary == {"trades": 4, "amount": 27501, "refunds": 2, "refunded": 8501, "voucher": 2000,
                            "settlement": 26001}


def test_a_bill_of_wechats_early_format_reads_its_total_and_red_packets() -> None:
    """Merchants who never enabled 免充值 vouchers may still get the early format: 总金额 (the
    total, all settled) and 企业红包金额 (the vouchers) instead of 订单金额, 应结订单金额, 代金券金额."""
    early = (BILL.replace("应结订单金额,代金券金额,", "总金额,企业红包金额,")
             .replace("手续费,费率,订单金额,申请退款金额,费率备注", "手续费,费率,订单,申请退款金额,费率备注"))
    bill = parse_trade_bill(early)
    assert [(t.amount, t.voucher, t.settlement, t.settled) for t in bill.trades] == [
        (12000, 0, None, 12000), (2501, 0, None, 2501)]


def test_columns_are_read_by_name_not_by_place() -> None:
    """WeChat says the order of the columns may change: a bill with two of them swapped reads the same."""
    lines = BILL.split("\r\n")
    swap = lambda line: ",".join((lambda f: f[:9] + [f[12], f[10], f[11], f[9]] + f[13:])(line.split(",")))  # noqa: E731
    shuffled = "\r\n".join([swap(lines[0])] + [swap(line) for line in lines[1:5]] + lines[5:])
    assert parse_trade_bill(shuffled) == parse_trade_bill(BILL)


def test_a_product_name_with_commas_stays_one_field() -> None:
    """micromall names a payment after its products joined by ", "; the bill's 商品名称 then holds
    commas, and only ",`" separates fields."""
    named = BILL.replace("`门票,`,`0.72000", "`门票, 帆布袋, 书签,`,`0.72000")
    assert parse_trade_bill(named) == parse_trade_bill(BILL)


def test_yuan_become_fen_exactly() -> None:
    assert fen("0.01", "x") == 1 and fen("1234.56", "x") == 123456 and fen("19.90", "x") == 1990
    assert fen("0.29", "x") == 29            # float(0.29) * 100 is 28.999999999999996
    for bad in ("1.234", "abc", "1,00"):
        with pytest.raises(BillUnreadable):
            fen(bad, "x")


@pytest.mark.parametrize("text", [
    "",
    "no header here\r\n",
    BILL.rsplit("总交易单数", 1)[0],                                  # the summary lines are missing
    BILL.replace("`4,`145.01", "`5,`145.01"),                        # the summary counts another line
    BILL.replace("`0.60%,`120.00,", "`0.60%,`120.001,"),             # not money
    BILL.replace("`0.60%,`120.00,`0.00,`", "`0.60%,`120.00,`0.00,`,`"),  # a field more than the header
    BILL.replace("`4,`145.01", "`four,`145.01"),                     # a count that is no number
])
def test_a_file_that_is_not_a_bill_is_refused(text: str) -> None:
    with pytest.raises(BillUnreadable):
        parse_trade_bill(text)
