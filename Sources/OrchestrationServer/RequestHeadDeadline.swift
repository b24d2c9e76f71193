import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head has not arrived in full within `limit` of the
/// connection's start, or within `next` of the previous response's end (keep-alive: at least the
/// idle timeout, so an idle connection is still the idle timeout's to close). The idle timeout
/// alone does not stop a slow drip (a byte of header every few seconds keeps a connection alive
/// for ever, and a few hundred of them take every connection the server serves); this bounds how
/// long one request head can hold a connection. Streams (SSE) are not affected: their head came.
final class RequestHeadDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limit: TimeAmount
    let next: TimeAmount
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount, next: TimeAmount) {
        self.limit = limit
        self.next = max(limit, next)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, limit) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, limit)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { disarm() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context, next) }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ within: TimeAmount) {
        disarm()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: within) { channel.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
