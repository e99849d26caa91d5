import { Button, Flex, Heading, Text } from '@radix-ui/themes';
import { useEffect, useId, useRef, type ReactNode } from 'react';

/** The browser's own <dialog>, shown as a modal while `open` and closed when it is not; its title's id for aria-labelledby. */
function useModal(open: boolean) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return { ref, titleId };
}

/**
 * A modal confirmation on the browser's own <dialog>: focus is trapped and Escape closes it natively,
 * and, unlike scroll-locking dialog libraries, it adds no inline <style> the page's CSP would refuse.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { ref, titleId } = useModal(props.open);

  return (
    <dialog ref={ref} className="modal" aria-labelledby={titleId} onClose={props.onClose}>
      {props.open && (
        <Flex direction="column" gap="4">
          <Heading as="h2" size="4" id={titleId}>
            {props.title}
          </Heading>
          <Text as="div" size="2">
            {props.children}
          </Text>
          <Flex gap="3" justify="end">
            <Button variant="soft" color="gray" onClick={props.onClose} autoFocus>
              Cancel
            </Button>
            <Button color={props.danger ? 'red' : undefined} loading={props.busy} onClick={props.onConfirm}>
              {props.confirmLabel}
            </Button>
          </Flex>
        </Flex>
      )}
    </dialog>
  );
}

/** A larger modal for reading (an attempt's request and response). */
export function Sheet(props: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const { ref, titleId } = useModal(props.open);
  return (
    <dialog ref={ref} className="modal sheet" aria-labelledby={titleId} onClose={props.onClose}>
      {props.open && (
        <Flex direction="column" gap="4">
          <Flex justify="between" align="center" gap="3">
            <Heading as="h2" size="5" id={titleId}>
              {props.title}
            </Heading>
            <Button variant="soft" color="gray" onClick={props.onClose}>
              Close
            </Button>
          </Flex>
          {props.children}
        </Flex>
      )}
    </dialog>
  );
}
