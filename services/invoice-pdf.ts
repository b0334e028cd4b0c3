/**
 * A payment request as a PDF the client can keep (GET /v1/payment-requests/{id}/pdf). Usage lines
 * show the period dates, total minutes, rate, amount and the breakdown per agent.
 */
import PDFDocument from 'pdfkit';
import { formatMinor } from '../billing/money';
import { formatMinutes } from '../billing/pools';
import type { Sql } from '../db/client';
import { getAgency } from '../db/queries/agencies';
import { getClient } from '../db/queries/clients';
import {
  getPaymentRequest,
  getPaymentRequestLines,
  type PaymentRequestLineRow,
  type PaymentRequestRow,
} from '../db/queries/payment-requests';
import { agentNames } from '../db/queries/usage-periods';

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '-');

interface PdfInput {
  agencyName: string;
  client: { name: string; email: string | null; id: string };
  request: PaymentRequestRow;
  lines: PaymentRequestLineRow[];
  agents: Map<string, string>;
}

/** Renders the request; resolves with the PDF bytes. */
export function renderRequestPdf(p: PdfInput): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `Invoice ${p.request.id}` },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const r = p.request;
  const money = (minor: number) => formatMinor(minor, r.currency);

  doc.fontSize(18).text(p.agencyName);
  doc
    .moveDown(0.5)
    .fontSize(12)
    .text(
      `${r.type === 'pack' ? 'Pack' : r.type === 'cycle' ? 'Invoice' : 'One-time invoice'} ${r.id}`,
    );
  doc.fontSize(10).fillColor('#444');
  doc.text(
    `Billed to: ${p.client.name}${p.client.email ? ` <${p.client.email}>` : ''} (${p.client.id})`,
  );
  doc.text(
    `Status: ${r.status}    Issued: ${day(r.issuedAt)}    Due: ${day(r.dueAt)}${r.graceEndsAt ? `    Grace ends: ${day(r.graceEndsAt)}` : ''}`,
  );
  if (r.externalReference) doc.text(`Reference: ${r.externalReference}`);
  doc.fillColor('#000').moveDown();

  for (const l of p.lines) {
    doc
      .fontSize(11)
      .text(l.description, { continued: true })
      .text(`  ${money(l.amountMinor)}`, { align: 'right' });
    doc.fontSize(9).fillColor('#444');
    if (l.periodStart && l.periodEnd)
      doc.text(`Period ${day(l.periodStart)} to ${day(l.periodEnd)}`);
    if (
      l.quantity !== null &&
      l.unitAmountMinor !== null &&
      (l.kind === 'usage' || l.kind === 'late_usage')
    )
      doc.text(`${l.quantity} billable minutes at ${l.unitAmountMinor} minor units per minute`);
    const d = l.details as {
      totalSeconds?: number;
      includedSeconds?: number;
      walletSeconds?: number;
      perAgent?: { agentId: string | null; seconds: number; billableSeconds: number }[];
    } | null;
    if (d && typeof d.totalSeconds === 'number') {
      doc.text(
        `Total minutes ${formatMinutes(d.totalSeconds)} (included ${formatMinutes(d.includedSeconds ?? 0)}, wallet ${formatMinutes(d.walletSeconds ?? 0)})`,
      );
      for (const a of d.perAgent ?? []) {
        const name = a.agentId === null ? 'No agent' : (p.agents.get(a.agentId) ?? a.agentId);
        doc.text(
          `  ${name}: ${formatMinutes(a.seconds)} min, ${formatMinutes(a.billableSeconds)} billable`,
        );
      }
    }
    doc.fillColor('#000').moveDown(0.5);
  }

  doc.moveDown().fontSize(10);
  doc.text(`Subtotal: ${money(r.subtotalMinor)}`, { align: 'right' });
  if (r.discountMinor) doc.text(`Discount: -${money(r.discountMinor)}`, { align: 'right' });
  if (r.taxMinor) doc.text(`Tax: ${money(r.taxMinor)}`, { align: 'right' });
  doc.fontSize(12).text(`Total: ${money(r.totalMinor)}`, { align: 'right' });
  doc.end();
  return done;
}

/**
 * The agency's payment request `id` as a PDF, or null when the agency has no such request (or,
 * given `clientId` as the client portal does, when it is not that client's).
 */
export async function paymentRequestPdf(
  sql: Sql,
  agencyId: string,
  id: string,
  clientId?: string,
): Promise<Buffer | null> {
  const request = await getPaymentRequest(sql, agencyId, id);
  if (!request || (clientId !== undefined && request.clientId !== clientId)) return null;
  const [lines, agency, client, agents] = await Promise.all([
    getPaymentRequestLines(sql, id),
    getAgency(sql, agencyId),
    getClient(sql, agencyId, request.clientId),
    agentNames(sql, request.clientId),
  ]);
  return renderRequestPdf({
    agencyName: agency?.name ?? '',
    client: { id: request.clientId, name: client?.name ?? '', email: client?.email ?? null },
    request,
    lines,
    agents,
  });
}
